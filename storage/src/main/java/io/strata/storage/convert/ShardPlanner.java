package io.strata.storage.convert;

import io.strata.core.model.ExpertId;
import io.strata.core.model.Role;
import io.strata.core.model.TensorNaming;
import io.strata.core.util.Sizes;
import io.strata.storage.convert.ShardPlan.Group;
import io.strata.storage.convert.ShardPlan.Placement;
import io.strata.storage.convert.ShardPlan.Shard;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Packs a source's tensors into shards. Dense tensors come first, in checkpoint order, each slice 64-byte aligned;
 * then the experts sorted by (layer, expert), each group page-aligned and holding w1, w3, w2 (gate, up, down).
 * Within a group the slices are rank-major (rank 0's w1, w3, w2, then rank 1's ...), so one TP rank's part of an
 * expert is also one contiguous range. A shard is closed when the next unit would push it past the shard size;
 * a unit (a dense tensor with all its slices, or an expert group) is never split, and one larger than the shard
 * size gets a shard of its own.
 */
final class ShardPlanner {
    private final ConvertOptions options;
    private final List<Shard> shards = new ArrayList<>();
    private List<Placement> current = new ArrayList<>();
    private long currentSize;

    private ShardPlanner(ConvertOptions options) {
        this.options = options;
    }

    static ShardPlan plan(ConvertSource src, ConvertOptions options) {
        return new ShardPlanner(options).run(src.tensors());
    }

    private ShardPlan run(List<SourceTensor> tensors) {
        Map<ExpertId, List<SourceTensor>> experts = new TreeMap<>();
        Map<String, List<Placement>> byTensor = new LinkedHashMap<>();
        for (SourceTensor t : tensors) {
            byTensor.put(t.name(), new ArrayList<>());
            var id = TensorNaming.expert(t.name());
            if (id.isPresent() && t.rank() == 2) {
                experts.computeIfAbsent(id.get(), k -> new ArrayList<>()).add(t);
            }
        }
        for (SourceTensor t : tensors) {
            Role role = TensorNaming.role(t.name(), t.rank());
            if (role == Role.EXPERT && t.rank() == 2) {
                continue;
            }
            if (role == Role.EXPERT) {
                role = Role.OTHER; // an expert-named tensor that is not a matrix: stored as a dense tensor
            }
            List<SliceSpec> slices = SlicePlanner.plan(t, role, options.layout(), options.tp());
            long unit = 0;
            for (SliceSpec s : slices) {
                unit = Sizes.alignUp(unit, ConvertOptions.TENSOR_ALIGNMENT) + s.byteSize();
            }
            long start = startUnit(unit, ConvertOptions.TENSOR_ALIGNMENT);
            for (SliceSpec s : slices) {
                start = Sizes.alignUp(start, ConvertOptions.TENSOR_ALIGNMENT);
                Placement p = new Placement(s, t, role, null, shards.size(), start);
                current.add(p);
                byTensor.get(t.name()).add(p);
                start += s.byteSize();
            }
            currentSize = start;
        }
        closeShard();
        List<Group> groups = new ArrayList<>();
        for (Map.Entry<ExpertId, List<SourceTensor>> e : experts.entrySet()) {
            List<SourceTensor> ts = new ArrayList<>(e.getValue());
            ts.sort(Comparator.comparingInt(t -> TensorNaming.expertOrder(t.name())));
            List<List<SliceSpec>> perTensor = new ArrayList<>();
            int ranks = 1;
            for (SourceTensor t : ts) {
                List<SliceSpec> sl = SlicePlanner.plan(t, Role.EXPERT, options.layout(), options.tp());
                perTensor.add(sl);
                ranks = Math.max(ranks, sl.size());
            }
            List<Integer> owners = new ArrayList<>();
            List<SliceSpec> ordered = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                for (int k = 0; k < ts.size(); k++) {
                    if (r < perTensor.get(k).size()) {
                        ordered.add(perTensor.get(k).get(r));
                        owners.add(k);
                    }
                }
            }
            long unit = 0;
            for (SliceSpec s : ordered) {
                unit = Sizes.alignUp(unit, ConvertOptions.TENSOR_ALIGNMENT) + s.byteSize();
            }
            long groupStart = startUnit(unit, ConvertOptions.GROUP_ALIGNMENT);
            long pos = groupStart;
            String groupName = e.getKey().groupName();
            for (int i = 0; i < ordered.size(); i++) {
                pos = Sizes.alignUp(pos, ConvertOptions.TENSOR_ALIGNMENT);
                SourceTensor src = ts.get(owners.get(i));
                Placement p = new Placement(ordered.get(i), src, Role.EXPERT, groupName, shards.size(), pos);
                current.add(p);
                byTensor.get(src.name()).add(p);
                pos += ordered.get(i).byteSize();
            }
            currentSize = pos;
            groups.add(new Group(e.getKey(), shards.size(), groupStart, pos - groupStart,
                    ts.stream().map(SourceTensor::name).toList()));
        }
        closeShard();
        for (List<Placement> l : byTensor.values()) {
            l.sort(Comparator.comparingInt(p -> p.slice().sliceIdx()));
        }
        return new ShardPlan(List.copyOf(shards), List.copyOf(groups), byTensor);
    }

    /** Where a unit of {@code size} bytes starts, opening a new shard when it would not fit in the current one. */
    private long startUnit(long size, long alignment) {
        long start = Sizes.alignUp(currentSize, alignment);
        if (!current.isEmpty() && start + size > options.shardSize()) {
            closeShard();
            start = 0;
        }
        return start;
    }

    private void closeShard() {
        if (!current.isEmpty()) {
            shards.add(new Shard(shards.size(), List.copyOf(current), currentSize));
            current = new ArrayList<>();
            currentSize = 0;
        }
    }
}
