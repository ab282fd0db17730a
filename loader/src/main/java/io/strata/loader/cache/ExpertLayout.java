package io.strata.loader.cache;

import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestException;
import io.strata.core.manifest.Span;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.Layout;
import io.strata.core.model.TensorNaming;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * One expert as a tier holds it: a block whose bytes are the concatenation of {@code ranges} (one range for a
 * Strata group, which keeps an expert's gate/up/down together; several where the source stores them apart, as a
 * GGUF file's fused per-layer tensors do), and where each {@link ExpertProjection} sits inside that block,
 * whatever the checkpoint calls it (the names are the family registry's, {@link TensorNaming#expertProjection}).
 * {@code contentHash} names the block's bytes when the manifest gives one (the disk cache's key), else null.
 */
public record ExpertLayout(ExpertId id, List<Span> ranges, String contentHash, Map<ExpertProjection, Part> parts) {

    /** One projection: {@code offset} is relative to the block start; {@code shape} is the logical shape. */
    public record Part(String tensorName, long offset, long size, DType dtype, long[] shape, Layout layout) {
    }

    public ExpertLayout {
        ranges = List.copyOf(ranges);
        EnumMap<ExpertProjection, Part> copy = new EnumMap<>(ExpertProjection.class);
        copy.putAll(parts);
        parts = Collections.unmodifiableMap(copy);
    }

    /** One contiguous group (a converted model's expert group). */
    public ExpertLayout(ExpertId id, GroupInfo group, Map<ExpertProjection, Part> parts) {
        this(id, List.of(new Span(group.shard(), group.offset(), group.size())), group.hash(), parts);
    }

    /** The block's size: every range's bytes. */
    public long bytes() {
        long n = 0;
        for (Span s : ranges) {
            n += s.size();
        }
        return n;
    }

    /**
     * Every expert of a manifest that has no expert groups (DOPPLER's, or one made for a GGUF file): each expert's
     * projections are its own tensors, found by the family registry's names, and its block is their bytes (spans
     * included) in projection order, gate, up, down. Empty for a manifest with expert groups.
     */
    public static Map<ExpertId, ExpertLayout> fromTensors(Manifest m) {
        Map<ExpertId, Map<ExpertProjection, String>> names = new java.util.HashMap<>();
        for (String name : m.tensors().keySet()) {
            TensorNaming.expert(name).ifPresent(id -> TensorNaming.expertProjection(name).ifPresent(p ->
                    names.computeIfAbsent(id, k -> new EnumMap<>(ExpertProjection.class)).put(p, name)));
        }
        Map<ExpertId, ExpertLayout> out = new java.util.HashMap<>();
        names.forEach((id, byProjection) -> {
            if (byProjection.size() != ExpertProjection.values().length) {
                throw new ManifestException("manifest: expert " + id + " has " + byProjection.keySet()
                        + " projections; gate, up and down are all needed");
            }
            List<Span> ranges = new java.util.ArrayList<>();
            Map<ExpertProjection, Part> parts = new EnumMap<>(ExpertProjection.class);
            long at = 0;
            for (Map.Entry<ExpertProjection, String> e : byProjection.entrySet()) {
                List<TensorInfo> entries = m.tensors().get(e.getValue());
                if (entries.size() != 1) {
                    throw new ManifestException("manifest: expert tensor '" + e.getValue() + "' must have exactly"
                            + " one entry");
                }
                TensorInfo t = entries.getFirst();
                long[] shape = t.logicalShape().stream().mapToLong(Long::longValue).toArray();
                parts.put(e.getKey(), new Part(e.getValue(), at, t.size(), t.dtype(), shape, t.layoutOrRow()));
                ranges.addAll(t.ranges());
                at += t.size();
            }
            out.put(id, new ExpertLayout(id, ranges, null, parts));
        });
        return out;
    }

    /** The manifest's description of an expert: its group, the tensors inside it. */
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
