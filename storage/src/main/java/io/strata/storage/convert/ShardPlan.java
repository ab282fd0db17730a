package io.strata.storage.convert;

import io.strata.core.model.ExpertId;
import io.strata.core.model.Role;
import java.util.List;
import java.util.Map;

/** Where every stored slice goes, decided from tensor headers alone before any byte is written. */
record ShardPlan(List<Shard> shards, List<Group> groups, Map<String, List<Placement>> byTensor) {

    /** One slice at its offset in its shard. */
    record Placement(SliceSpec slice, SourceTensor source, Role role, String group, int shard, long offset) {
    }

    /** A shard file: its slices in file order and its size (the end of the last slice). */
    record Shard(int index, List<Placement> placements, long size) {
        String fileName() {
            return String.format(java.util.Locale.ROOT, "shard_%05d.bin", index);
        }
    }

    /** An expert's tensors, contiguous in one shard. */
    record Group(ExpertId id, int shard, long offset, long size, List<String> tensors) {
    }

    long tensorBytes() {
        return shards.stream().flatMap(s -> s.placements().stream()).mapToLong(p -> p.slice().byteSize()).sum();
    }
}
