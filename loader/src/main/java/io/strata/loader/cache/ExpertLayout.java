package io.strata.loader.cache;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestException;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Layout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each projection of one expert sits inside its group's bytes, under Mixtral's names whatever the
 * checkpoint calls them (Qwen's gate_proj is w1, up_proj w3, down_proj w2).
 */
public record ExpertLayout(ExpertId id, GroupInfo group, Map<String, Part> parts) {

    /** One projection: {@code offset} is relative to the group start; {@code shape} is the logical shape. */
    public record Part(String tensorName, long offset, long size, DType dtype, long[] shape, Layout layout) {
    }

    public ExpertLayout {
        parts = Map.copyOf(parts);
    }

    public long bytes() {
        return group.size();
    }

    public static ExpertLayout of(Manifest m, ExpertId id) {
        GroupInfo g = m.expertGroup(id).orElseThrow(() -> new ManifestException(
                "manifest: no expert group '" + id.groupName() + "' (model has no expert " + id + ")"));
        Map<String, Part> parts = new LinkedHashMap<>();
        for (String name : g.tensors()) {
            List<TensorInfo> entries = m.tensors().get(name);
            if (entries == null || entries.size() != 1) {
                throw new ManifestException("manifest: expert tensor '" + name + "' of group " + g + " must have"
                        + " exactly one entry");
            }
            TensorInfo t = entries.getFirst();
            String proj = projection(name);
            if (t.shard() != g.shard() || t.offset() < g.offset() || t.offset() + t.size() > g.offset() + g.size()) {
                throw new ManifestException("manifest: expert tensor '" + name + "' lies outside its group "
                        + id.groupName());
            }
            long[] shape = t.logicalShape().stream().mapToLong(Long::longValue).toArray();
            parts.put(proj, new Part(name, t.offset() - g.offset(), t.size(), t.dtype(), shape, t.layoutOrRow()));
        }
        return new ExpertLayout(id, g, parts);
    }

    /** w1/w2/w3 for Mixtral ({@code .w1.}) and Qwen/DeepSeek ({@code gate_proj}, {@code down_proj}, {@code up_proj}). */
    static String projection(String tensorName) {
        if (tensorName.contains(".w1.") || tensorName.contains("gate_proj")) {
            return "w1";
        }
        if (tensorName.contains(".w2.") || tensorName.contains("down_proj")) {
            return "w2";
        }
        if (tensorName.contains(".w3.") || tensorName.contains("up_proj")) {
            return "w3";
        }
        throw new ManifestException("manifest: cannot tell which projection expert tensor '" + tensorName + "' is");
    }
}
