package io.strata.storage.convert;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.manifest.TokenizerInfo;
import io.strata.storage.safetensors.Checkpoint;
import io.strata.storage.safetensors.SafetensorsTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A Hugging Face safetensors checkpoint as a {@link ConvertSource}: every tensor as it is, except fused expert
 * tensors ({@code experts.gate_up_proj} / {@code experts.down_proj}), which {@link FusedExperts} cuts into the
 * per-expert w1/w3/w2 the runtime reads.
 */
final class SafetensorsSource implements ConvertSource {
    private final Checkpoint ckpt;
    private final List<SourceTensor> tensors;

    private SafetensorsSource(Checkpoint ckpt, List<SourceTensor> tensors) {
        this.ckpt = ckpt;
        this.tensors = tensors;
    }

    static SafetensorsSource open(Path src) {
        Checkpoint ckpt = Checkpoint.open(src);
        try {
            List<SourceTensor> out = new ArrayList<>();
            FusedExperts fused = new FusedExperts(ckpt);
            for (SafetensorsTensor t : ckpt.tensors().values()) {
                if (fused.claims(t)) {
                    out.addAll(fused.split(t));
                } else {
                    out.add(SourceTensor.of(t));
                }
            }
            List<SourceTensor> list = Collections.unmodifiableList(out);
            ConvertSource.checkUnique(list, src);
            return new SafetensorsSource(ckpt, list);
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    @Override
    public Path source() {
        return ckpt.source();
    }

    @Override
    public List<SourceTensor> tensors() {
        return tensors;
    }

    @Override
    public JsonNode config() {
        return ckpt.config();
    }

    @Override
    public String architecture() {
        JsonNode arch = ckpt.config().path("architectures");
        return arch.isArray() && !arch.isEmpty() ? arch.get(0).asText() : null;
    }

    @Override
    public String defaultModelId() {
        Path src = ckpt.source();
        String name = src.getFileName() == null ? "model" : src.getFileName().toString();
        return Files.isRegularFile(src) && name.endsWith(".safetensors")
                ? name.substring(0, name.length() - ".safetensors".length()) : name;
    }

    @Override
    public TokenizerInfo bundleTokenizer(Path out, long chunkSize) {
        return TokenizerBundle.copy(ckpt.source(), out, chunkSize);
    }

    @Override
    public void close() {
        ckpt.close();
    }
}
