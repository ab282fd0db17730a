package io.strata.storage.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.manifest.BundledFile;
import io.strata.core.manifest.TokenizerInfo;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.ModelFamily;
import io.strata.core.model.TensorNaming;
import io.strata.storage.gguf.GgufArray;
import io.strata.storage.gguf.GgufFile;
import io.strata.storage.gguf.GgufMetadata;
import io.strata.storage.gguf.GgufModelConfig;
import io.strata.storage.gguf.GgufTensor;
import io.strata.storage.gguf.GgufWriter;
import io.strata.storage.model.ShardHasher;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GGUF file (llama.cpp's format, already validated by {@link GgufFile}) as a {@link ConvertSource}. Tensors are
 * renamed to Strata's canonical Hugging Face names ({@link TensorNaming#fromGguf}); names Strata has no meaning
 * for keep their GGUF name. The fused {@code blk.N.ffn_{gate,up,down}_exps} tensors ({@code [experts, out, in]}
 * row-major, expert outermost) are cut into one tensor per expert and projection: an expert's rows are one
 * contiguous byte range of the fused tensor, so its quantised blocks are copied as they are, never dequantised.
 * Every tensor keeps its ggml type. The config is {@link GgufModelConfig#hfConfig}'s, which says when q/k rows
 * are stored permuted for interleaved RoPE ({@code rope_interleaved}; they are kept as stored). The embedded
 * vocabulary ({@code tokenizer.*} metadata) is bundled as {@code tokenizer.gguf}, a GGUF file holding only that
 * metadata, so {@code run --prompt} tokenises a converted model the way it tokenises the GGUF itself.
 */
final class GgufSource implements ConvertSource {
    private static final Pattern FUSED = Pattern.compile("blk\\.(\\d+)\\.(ffn_gate_exps|ffn_up_exps|ffn_down_exps)"
            + "\\.weight");

    private final GgufFile file;
    private final ObjectNode config;
    private final ModelFamily family;
    private final List<SourceTensor> tensors;

    private GgufSource(GgufFile file, ObjectNode config, ModelFamily family, List<SourceTensor> tensors) {
        this.file = file;
        this.config = config;
        this.family = family;
        this.tensors = tensors;
    }

    static GgufSource open(Path src) {
        GgufFile file = GgufFile.open(src);
        try {
            ObjectNode config = GgufModelConfig.hfConfig(file);
            ModelFamily family = ModelFamily.fromConfig(config);
            List<SourceTensor> out = new ArrayList<>();
            for (GgufTensor t : file.tensors()) {
                Matcher m = FUSED.matcher(t.name());
                if (m.matches()) {
                    split(t, Integer.parseInt(m.group(1)), projection(m.group(2)), family, out);
                } else {
                    String name = TensorNaming.fromGguf(t.name(), family).orElse(t.name());
                    out.add(SourceTensor.contiguous(name, t.name(), t.dtype(), t.shape(), src, t.data()));
                }
            }
            List<SourceTensor> list = Collections.unmodifiableList(out);
            ConvertSource.checkUnique(list, src);
            return new GgufSource(file, config, family, list);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static ExpertProjection projection(String fused) {
        for (ExpertProjection p : ExpertProjection.values()) {
            if (p.ggufFusedName().equals(fused)) {
                return p;
            }
        }
        throw new IllegalArgumentException(fused);
    }

    /** Expert e of a fused {@code [E, out, in]} tensor: rows {@code [e*out, (e+1)*out)}, one byte range. */
    private static void split(GgufTensor t, int layer, ExpertProjection p, ModelFamily family,
                              List<SourceTensor> out) {
        if (t.rank() != 3) {
            throw new ConvertException(t.file() + ": tensor '" + t.name() + "': a fused expert tensor must be 3-D"
                    + " [experts, out, in], got shape " + java.util.Arrays.toString(t.shape()));
        }
        long experts = t.dim(0);
        long[] shape = {t.dim(1), t.dim(2)};
        DType dt = t.dtype();
        long each = dt.bytesFor(shape);
        for (int e = 0; e < experts; e++) {
            out.add(SourceTensor.contiguous(family.expertTensorName(layer, e, p),
                    t.name() + "[expert " + e + "]", dt, shape, t.file(), t.data().asSlice(e * each, each)));
        }
    }

    @Override
    public Path source() {
        return file.path();
    }

    @Override
    public List<SourceTensor> tensors() {
        return tensors;
    }

    @Override
    public JsonNode config() {
        return config;
    }

    @Override
    public String architecture() {
        return family.hfArchitecture();
    }

    @Override
    public String defaultModelId() {
        String name = file.path().getFileName().toString();
        return name.toLowerCase(Locale.ROOT).endsWith(".gguf") ? name.substring(0, name.length() - 5) : name;
    }

    @Override
    public TokenizerInfo bundleTokenizer(Path out, long chunkSize) {
        GgufMetadata md = file.metadata();
        Optional<String> model = md.optionalString("tokenizer.ggml.model");
        if (model.isEmpty()) {
            return null;
        }
        GgufWriter w = new GgufWriter();
        for (Map.Entry<String, GgufMetadata.Entry> e : md.entries().entrySet()) {
            if (e.getKey().startsWith("tokenizer.")) {
                w.put(e.getKey(), e.getValue().type(), e.getValue().value());
            }
        }
        Path to = out.resolve(TokenizerInfo.GGUF_FILE);
        w.write(to);
        try {
            BundledFile b = BundledFile.of(ShardHasher.describe(0, to, chunkSize));
            Integer vocab = md.optionalArray("tokenizer.ggml.tokens").map(GgufArray::size).orElse(null);
            return new TokenizerInfo(TokenizerInfo.BUNDLED, TokenizerInfo.GGUF_FILE, vocab, model.get(), List.of(b));
        } catch (IOException e) {
            throw new ConvertException(to + ": cannot hash: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        file.close();
    }
}
