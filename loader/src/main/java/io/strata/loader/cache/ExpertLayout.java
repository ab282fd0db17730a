package io.strata.loader.cache;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestException;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.Layout;
import io.strata.core.model.TensorNaming;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Where each {@link ExpertProjection} of one expert sits inside its group's bytes, whatever the checkpoint calls
 * it (the names are the family registry's, {@link TensorNaming#expertProjection}).
 */
public record ExpertLayout(ExpertId id, GroupInfo group, Map<ExpertProjection, Part> parts) {

    /** One projection: {@code offset} is relative to the group start; {@code shape} is the logical shape. */
    public record Part(String tensorName, long offset, long size, DType dtype, long[] shape, Layout layout) {
    }

    public ExpertLayout {
        EnumMap<ExpertProjection, Part> copy = new EnumMap<>(ExpertProjection.class);
        copy.putAll(parts);
        parts = java.util.Collections.unmodifiableMap(copy);
    }

    public long bytes() {
        return group.size();
    }

    public static ExpertLayout of(Manifest m, ExpertId id) {
        GroupInfo g = m.expertGroup(id).orElseThrow(() -> new ManifestException(
                "manifest: no expert group '" + id.groupName() + "' (model has no expert " + id + ")"));
        Map<ExpertProjection, Part> parts = new EnumMap<>(ExpertProjection.class);
        for (String name : g.tensors()) {
            List<TensorInfo> entries = m.tensors().get(name);
            if (entries == null || entries.size() != 1) {
                throw new ManifestException("manifest: expert tensor '" + name + "' of group " + g + " must have"
                        + " exactly one entry");
            }
            TensorInfo t = entries.getFirst();
            ExpertProjection proj = TensorNaming.expertProjection(name).orElseThrow(() -> new ManifestException(
                    "manifest: cannot tell which projection expert tensor '" + name + "' is"));
            if (t.shard() != g.shard() || t.offset() < g.offset() || t.offset() + t.size() > g.offset() + g.size()) {
                throw new ManifestException("manifest: expert tensor '" + name + "' lies outside its group "
                        + id.groupName());
            }
            long[] shape = t.logicalShape().stream().mapToLong(Long::longValue).toArray();
            parts.put(proj, new Part(name, t.offset() - g.offset(), t.size(), t.dtype(), shape, t.layoutOrRow()));
        }
        return new ExpertLayout(id, g, parts);
    }
}
