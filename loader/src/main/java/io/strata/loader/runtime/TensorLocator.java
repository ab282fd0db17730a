package io.strata.loader.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestException;
import io.strata.core.manifest.Span;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import io.strata.loader.cache.ExpertLayout;
import io.strata.storage.model.TensorSlices;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The manifest's answers the runtime needs, in one place: where a dense tensor's bytes are (as the spans whose
 * concatenation it is), which bytes a TP rank loads ({@link TensorSlices}), how an expert is laid out
 * ({@link ExpertLayout}) and how many layers, experts and routed experts per token there are. Knows nothing of
 * tiers or budgets.
 */
final class TensorLocator {
    /** A load: the bytes {@code ranges} hold, and how compute sees them. */
    record Location(String name, List<Span> ranges, long bytes, DType dtype, long[] logicalShape, Layout layout) {
        TensorView view(MemorySegment data) {
            return new TensorView(name, data, dtype, logicalShape, layout);
        }
    }

    private final Manifest manifest;
    private final TensorSlices slices;
    private final Map<ExpertId, ExpertLayout> layouts = new ConcurrentHashMap<>();
    /** Set when the manifest has no expert groups: every expert laid out from its own tensors, up front. */
    private final Map<ExpertId, ExpertLayout> ungrouped;
    private final int layerCount;

    TensorLocator(Manifest manifest) {
        this.manifest = manifest;
        this.slices = new TensorSlices(manifest, "manifest");
        boolean grouped = manifest.groups().values().stream().anyMatch(GroupInfo::isExpert);
        this.ungrouped = grouped ? null : ExpertLayout.fromTensors(manifest);
        this.layerCount = manifest.moeConfig() == null ? 0 : countLayers(manifest, ungrouped);
    }

    Manifest manifest() {
        return manifest;
    }

    boolean hasTensor(String name) {
        return manifest.tensors().containsKey(name);
    }

    /** An unsliced tensor. */
    Location dense(String name) {
        TensorInfo t = manifest.tensor(name);
        long[] shape = t.logicalShape().stream().mapToLong(Long::longValue).toArray();
        return new Location(name, t.ranges(), t.size(), t.dtype(), shape, t.layoutOrRow());
    }

    /** The part of {@code name} TP rank {@code rank} of {@code size} loads. */
    Location slice(String name, int rank, int size) {
        TensorSlices.Part p = slices.resolve(name, rank, size);
        TensorInfo t = p.entry();
        List<Span> ranges = p.isCut() ? List.of(new Span(t.shard(), p.offset(), p.size())) : t.ranges();
        return new Location(name, ranges, p.size(), t.dtype(), p.logicalShape(), t.layoutOrRow());
    }

    ExpertLayout expert(ExpertId id) {
        if (ungrouped != null) {
            ExpertLayout l = ungrouped.get(id);
            if (l == null) {
                throw new ManifestException("manifest: no tensors of expert " + id);
            }
            return l;
        }
        return layouts.computeIfAbsent(id, k -> ExpertLayout.of(manifest, k));
    }

    long expertBytes(ExpertId id) {
        return expert(id).bytes();
    }

    /** The largest expert's bytes (at least 1), for sizing device staging. */
    long maxExpertBytes() {
        long recorded = manifest.moeConfig() == null ? 0 : manifest.moeConfig().expertBytes();
        if (ungrouped != null) {
            for (ExpertLayout l : ungrouped.values()) {
                recorded = Math.max(recorded, l.bytes());
            }
        }
        return Math.max(1, recorded);
    }

    /** Layers arrays indexed by layer need (0 for a dense model). */
    int layerCount() {
        return layerCount;
    }

    int numExperts() {
        return manifest.moeConfig() == null ? 0 : manifest.moeConfig().numExperts();
    }

    int expertsPerToken() {
        return manifest.moeConfig() == null ? 1 : Math.max(1, manifest.moeConfig().numExpertsPerToken());
    }

    boolean isMoe() {
        return manifest.isMoe();
    }

    /**
     * Layer ids run up to the highest expert layer, whatever numMoeLayers says: with decoder_sparse_step or
     * mlp_only_layers (Qwen) some layers are dense, and arrays indexed by layer must still reach the last MoE one.
     */
    private static int countLayers(Manifest manifest, Map<ExpertId, ExpertLayout> ungrouped) {
        int max = 0;
        for (GroupInfo g : manifest.groups().values()) {
            if (g.isExpert()) {
                max = Math.max(max, g.layerIndex() + 1);
            }
        }
        if (ungrouped != null) {
            for (ExpertId id : ungrouped.keySet()) {
                max = Math.max(max, id.layer() + 1);
            }
        }
        JsonNode c = manifest.config();
        int configured = c == null ? 1 : c.path("num_hidden_layers").asInt(1);
        // arrays are sized by it: a layer holds at least one tensor, so no more layers than tensors are real
        if (configured > Math.max(1, manifest.tensors().size())) {
            throw new ManifestException("manifest: config.num_hidden_layers: " + configured + " layers, but the"
                    + " manifest lists only " + manifest.tensors().size() + " tensors");
        }
        return Math.max(max, configured);
    }
}
