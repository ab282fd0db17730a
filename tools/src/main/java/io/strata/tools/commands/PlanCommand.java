package io.strata.tools.commands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.TensorInfo;
import io.strata.core.memory.DefaultBudgets;
import io.strata.core.memory.MemoryPlan;
import io.strata.core.memory.MemoryPlanner;
import io.strata.core.memory.ModelShape;
import io.strata.core.memory.Parallelism;
import io.strata.core.util.RegularFiles;
import io.strata.core.util.Sizes;
import io.strata.storage.gguf.GgufManifest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata plan}: per-device memory figures for a model under a parallel layout. */
@Command(name = "plan", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Plan memory per device: dense weights, experts, KV cache, activations, buffers.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Reads the model's config (a converted model directory, a checkpoint directory with config.json,",
                "  or a config.json file) and prints, for one device of the layout, the bytes of dense weights,",
                "  experts, KV cache (layers x 2 x kv_heads x head_dim x seq x batch x dtype), activations and",
                "  communication buffers; whether it all fits the device memory; and how many experts per layer",
                "  the device and the host can hold when experts are paged. TP divides dense and expert matrices,",
                "  EP divides the experts of a layer, PP divides the layers, DP replicates (and splits the batch)."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:planned (whether or not it fits)", "1:the config is missing or invalid", "2:bad usage"},
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata plan ./mixtral-8x7b --tp 2 --seq 4096 --device-mem 24GiB --host-mem 64GiB")
public final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "Converted model dir, checkpoint dir or config.json.")
    Path model;

    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel degree (default ${DEFAULT-VALUE}).")
    int tp;

    @Option(names = "--ep", defaultValue = "1", description = "Expert-parallel degree (default ${DEFAULT-VALUE}).")
    int ep;

    @Option(names = "--pp", defaultValue = "1", description = "Pipeline stages (default ${DEFAULT-VALUE}).")
    int pp;

    @Option(names = "--dp", defaultValue = "1", description = "Data-parallel replicas (default ${DEFAULT-VALUE}).")
    int dp;

    @Option(names = "--batch", defaultValue = "1", description = "Sequences in flight (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seq", defaultValue = "4096", description = "Tokens per sequence (default ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--device-mem", defaultValue = "80GiB", paramLabel = "SIZE",
            description = "Memory of one device, e.g. 24GiB (default ${DEFAULT-VALUE}).")
    String deviceMem;

    @Option(names = "--host-mem", paramLabel = "SIZE",
            description = "Host memory for experts (default: 50% of RAM minus a 2 GiB reserve).")
    String hostMem;

    @Option(names = "--json", description = "Print the figures as one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Manifest manifest = manifestOf(model);
        JsonNode config = manifest != null ? manifest.config() : readConfig(model);
        if (manifest != null && (config == null || !config.isObject())) {
            throw new IllegalArgumentException(model + ": manifest has no 'config' object");
        }
        ModelShape shape = ModelShape.fromConfig(config);
        if (manifest != null) {
            shape = storedWeights(shape, manifest);
        }
        java.util.Optional<String> cannotRun = io.strata.core.manifest.Manifest.decoderProblem(config);
        long host = hostMem != null ? Sizes.parse(hostMem)
                : DefaultBudgets.hostBudget() - DefaultBudgets.hostReserve(DefaultBudgets.hostBudget());
        MemoryPlan p = MemoryPlanner.plan(shape, new Parallelism(tp, ep, pp, dp), batch, seq,
                Sizes.parse(deviceMem), host);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("devices", p.par().devices());
            m.put("layersPerDevice", p.layersPerDevice());
            m.put("expertsPerDevice", p.expertsPerDevice());
            m.put("denseBytes", p.denseBytes());
            m.put("expertBytes", p.expertBytes());
            m.put("kvBytes", p.kvBytes());
            m.put("activationBytes", p.activationBytes());
            m.put("commBytes", p.commBytes());
            m.put("totalBytes", p.totalBytes());
            m.put("deviceMem", p.deviceMem());
            m.put("fits", p.fitsOnDevice());
            m.put("runsWithPaging", p.runsWithPaging());
            m.put("deviceExpertsPerLayer", p.deviceExpertsPerLayer());
            m.put("hostExpertsPerLayer", p.hostExpertsPerLayer());
            m.put("decoderCannotRun", cannotRun.orElse(null));
            out.println(new ObjectMapper().writeValueAsString(m));
        } else {
            out.print(p.format());
            cannotRun.ifPresent(why -> out.println("Decoder: cannot run: " + why));
        }
        out.flush();
        return 0;
    }

    /** The manifest of a converted model directory, a manifest.json or a .gguf file; null for a checkpoint. */
    private static Manifest manifestOf(Path model) {
        if (GgufManifest.isGguf(model) && Files.isRegularFile(model)) {
            return GgufManifest.read(model);
        }
        Path file = Files.isDirectory(model) ? model.resolve(Manifest.FILE_NAME) : model;
        return file.getFileName() != null && file.getFileName().toString().equals(Manifest.FILE_NAME)
                && Files.exists(file) ? ManifestCodec.read(file) : null;
    }

    /** Weights at the bytes per element the manifest's tensors take (quantised types), experts and dense apart. */
    static ModelShape storedWeights(ModelShape shape, Manifest m) {
        long eBytes = 0;
        long eElems = 0;
        long dBytes = 0;
        long dElems = 0;
        for (List<TensorInfo> slices : m.tensors().values()) {
            for (TensorInfo t : slices) {
                if (t.group() != null) {
                    eBytes += t.size();
                    eElems += t.elementCount();
                } else {
                    dBytes += t.size();
                    dElems += t.elementCount();
                }
            }
        }
        double e = eElems > 0 ? (double) eBytes / eElems : shape.expertBytesPerWeight();
        double d = dElems > 0 ? (double) dBytes / dElems : shape.denseBytesPerWeight();
        return shape.withStoredWeights(e, d);
    }

    /** A checkpoint's {@code config.json} (MODEL is its directory or the file); {@link #manifestOf} reads manifests. */
    static JsonNode readConfig(Path model) throws IOException {
        Path file = Files.isDirectory(model) ? model.resolve("config.json") : model;
        if (!Files.exists(file)) {
            throw new IllegalArgumentException(file + ": no such file (give a model directory or a config.json)");
        }
        // a FIFO or /dev/zero behind the name must not hang or fill the heap: regular files only, size-bounded
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(RegularFiles.read(file, ManifestCodec.MAX_MANIFEST_BYTES));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(file + ": not a JSON object");
        }
        return n;
    }
}
