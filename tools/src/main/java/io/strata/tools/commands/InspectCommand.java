package io.strata.tools.commands;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.storage.gguf.GgufManifest;
import io.strata.core.manifest.MoeConfig;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.model.Role;
import io.strata.core.model.TensorNaming;
import io.strata.core.util.Sizes;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code strata inspect}: what a converted model holds, from its manifest alone. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Describe a converted model: tensors by role, experts, bytes, shards.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Reads and validates DIR/manifest.json and prints the model",
                "  (architecture, layout, dtype, MoE shape, manifest hash), the bytes per",
                "  role, the experts per layer, every tensor grouped by role (shape, dtype,",
                "  layout, TP slices, shard and offset, or spans) and the shard table, and",
                "  whether Strata's decoder can run the model (and why not). Manifests",
                "  DOPPLER wrote read too. Shard contents are not read (the files need not",
                "  be there); use strata verify to check them.",
                "  DIR may also be a GGUF file: it is described as Strata reads it in place",
                "  (the file as the one shard, each expert as row ranges of the fused expert",
                "  tensors, Hugging Face tensor names); GGUF carries no hashes, which the",
                "  hash line says (no hashes: unverifiable)."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:printed", "1:the manifest is missing or invalid", "2:bad usage"},
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata inspect ./mixtral-strata --brief")
public final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "A converted model directory (from shard-convert), or"
            + " a .gguf file.")
    Path dir;

    @Option(names = "--brief", description = "Leave out the per-tensor listing.")
    boolean brief;

    @Override
    public Integer call() throws Exception {
        boolean gguf = GgufManifest.isGguf(dir) && Files.isRegularFile(dir);
        Manifest m = gguf ? GgufManifest.read(dir) : ManifestCodec.read(dir);
        // a converted model's hash is of its manifest.json's bytes; a GGUF file's, of the manifest made for it
        byte[] bytes = gguf ? ManifestCodec.toBytes(m) : ManifestCodec.readBytes(dir);
        String hash = Blake3.hashHex(bytes);
        PrintWriter o = spec.commandLine().getOut();
        o.printf("Model      %s (%s)%n", m.modelId(), m.architecture() == null ? m.modelType() : m.architecture());
        o.printf("Manifest   %s (version %d%s)%n", hash, m.version(), gguf ? ", made in memory from the GGUF file" : "");
        int maxSlices = m.tensors().values().stream().mapToInt(List::size).max().orElse(1);
        String hashes = !m.hasHashes() ? "no hashes: unverifiable (GGUF carries none)"
                : m.hasChunkHashes() ? "chunk " + Sizes.format(m.chunkSize())
                : m.hashAlgorithm() + " per shard" + m.blockMerkle().map(b -> ", block Merkle roots for "
                + b.roots().size() + " tensors (blocks of " + Sizes.format(b.blockSize()) + ")").orElse("");
        o.printf(Locale.ROOT, "Storage    layout %s, TP %d, %s, %d shards, %s, %s%n",
                m.defaultWeightLayout() == null ? "row" : m.defaultWeightLayout().json(), maxSlices,
                m.quantization(), m.shards().size(), Sizes.format(m.totalSize()), hashes);
        MoeConfig moe = m.moeConfig();
        if (moe != null) {
            o.printf("MoE        %d experts per layer, top-%d, %d MoE layers, largest expert %s (%s)%n",
                    moe.numExperts(), moe.numExpertsPerToken(), moe.numMoeLayers(), Sizes.format(moe.expertBytes()),
                    moe.expertFormat());
        }
        o.printf("Decoder    %s%n", m.decoderProblem().map(why -> "cannot run: " + why)
                .orElse("runs it (" + m.config().path("model_type").asText() + ")"));
        Map<Role, long[]> perRole = new EnumMap<>(Role.class);
        Map<Role, List<String>> names = new EnumMap<>(Role.class);
        for (Map.Entry<String, List<TensorInfo>> e : m.tensors().entrySet()) {
            Role r = e.getValue().getFirst().role() == null ? Role.OTHER : e.getValue().getFirst().role();
            long[] acc = perRole.computeIfAbsent(r, k -> new long[2]);
            acc[0]++;
            acc[1] += e.getValue().stream().mapToLong(TensorInfo::size).sum();
            names.computeIfAbsent(r, k -> new ArrayList<>()).add(e.getKey());
        }
        o.printf("%nBytes per role%n");
        o.printf("  %-10s %8s %12s %7s%n", "role", "tensors", "bytes", "share");
        long all = perRole.values().stream().mapToLong(a -> a[1]).sum();
        perRole.forEach((r, a) -> o.printf(Locale.ROOT, "  %-10s %8d %12s %6.1f%%%n", r.json(), a[0],
                Sizes.format(a[1]), all == 0 ? 0 : 100.0 * a[1] / all));
        Map<Integer, List<GroupInfo>> byLayer = new TreeMap<>();
        for (GroupInfo g : m.groups().values()) {
            if (g.isExpert()) {
                byLayer.computeIfAbsent(g.layerIndex(), k -> new ArrayList<>()).add(g);
            }
        }
        if (!byLayer.isEmpty()) {
            o.printf("%nExperts per layer%n");
            byLayer.forEach((layer, gs) -> {
                TreeSet<Integer> shards = new TreeSet<>();
                gs.forEach(g -> shards.addAll(g.shards()));
                o.printf("  layer %-4d %4d experts  %10s  shards %s%n", layer, gs.size(),
                        Sizes.format(gs.stream().mapToLong(GroupInfo::size).sum()), range(shards));
            });
        } else {
            printUngroupedExperts(o, m);
        }
        if (!brief) {
            o.printf("%nTensors by role%n");
            names.forEach((r, list) -> {
                o.printf("  %s (%d)%n", r.json(), list.size());
                for (String n : list) {
                    List<TensorInfo> es = m.tensors().get(n);
                    TensorInfo t = es.getFirst();
                    String where = t.spans() != null ? "spans " + String.join(", ", t.spans().stream()
                            .map(sp -> "shard " + sp.shardIndex() + " @" + sp.offset() + " +" + sp.size()).toList())
                            : es.size() == 1 ? "shard " + t.shard() + " @" + t.offset()
                            : es.size() + " slices (dim " + t.sliceDim() + ") in shards "
                            + range(new TreeSet<>(es.stream().map(TensorInfo::shard).toList()));
                    o.printf("    %-60s %-14s %-5s %-6s %s%n", n, t.logicalShape(), t.dtype(),
                            t.layoutOrRow().json(), where);
                }
            });
        }
        o.printf("%nShards%n");
        o.printf("  %5s  %-16s %12s %7s  %s%n", "index", "file", "size", "chunks", m.hashAlgorithmOrBlake3());
        for (ShardInfo s : m.shards()) {
            o.printf("  %5d  %-16s %12s %7d  %s%n", s.index(), s.filename(), Sizes.format(s.size()),
                    s.chunks().size(), s.hash() == null ? "-" : s.hash());
        }
        o.flush();
        return 0;
    }

    /** Experts stored as their own tensors (a DOPPLER manifest, no groups): counted per layer by name. */
    private static void printUngroupedExperts(PrintWriter o, Manifest m) {
        Map<Integer, Map<Integer, long[]>> perLayer = new TreeMap<>();
        Map<Integer, TreeSet<Integer>> shards = new TreeMap<>();
        m.tensors().forEach((name, es) -> TensorNaming.expert(name).ifPresent(id -> {
            if (TensorNaming.expertProjection(name).isPresent()) {
                perLayer.computeIfAbsent(id.layer(), k -> new TreeMap<>())
                        .computeIfAbsent(id.expert(), k -> new long[1])[0] += es.getFirst().size();
                es.getFirst().ranges().forEach(sp -> shards.computeIfAbsent(id.layer(), k -> new TreeSet<>())
                        .add(sp.shardIndex()));
            }
        }));
        if (perLayer.isEmpty()) {
            return;
        }
        o.printf("%nExperts per layer (each its own tensors)%n");
        perLayer.forEach((layer, experts) -> o.printf("  layer %-4d %4d experts  %10s  shards %s%n", layer,
                experts.size(), Sizes.format(experts.values().stream().mapToLong(a -> a[0]).sum()),
                range(shards.get(layer))));
    }

    private static String range(TreeSet<Integer> s) {
        if (s.isEmpty()) {
            return "-";
        }
        return s.first().equals(s.last()) ? String.valueOf(s.first()) : s.first() + ".." + s.last();
    }
}
