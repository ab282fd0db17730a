package io.strata.storage.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.model.DType;
import io.strata.core.model.ModelFamily;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a Hugging Face style MoE checkpoint with random weights: {@code config.json}, one or more safetensors
 * files and (when sharded) {@code model.safetensors.index.json}, with Mixtral or Qwen3-MoE tensor names.
 *
 * <p>Weights are uniform noise of standard deviation {@code 1/sqrt(in)} (norm weights near 1, embeddings near
 * unit scale), so a forward pass gives finite, non-degenerate logits. With a router skew, embeddings share a
 * common direction and the router rows of a few "hot" experts per layer lean towards it, so those experts win
 * most tokens, as in real routing traces. Tensors are streamed through a 1 MiB buffer: the model is never held
 * in memory, so multi-GiB checkpoints are cheap. The output depends only on the builder's settings.
 *
 * <p>{@link Builder#fused(Fused)} writes each layer's experts as the fused 3-D tensors newer checkpoints have
 * ({@code experts.gate_up_proj} / {@code experts.down_proj}, in Hugging Face's or GPT-OSS's layout), so the
 * converter's splitting can be tested against slices computed independently.
 */
public final class SyntheticCheckpoint {
    private static final int BUFFER = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** What was written. */
    public record Result(Path dir, List<String> tensorNames, List<Path> files, long tensorBytes) {
    }

    private SyntheticCheckpoint() {
    }

    public static Builder builder() {
        return new Builder();
    }

    /** How a layer's routed experts are written. */
    public enum Fused {
        /** One tensor per expert and projection ({@code experts.E.w1.weight} ...). */
        NONE,
        /**
         * Hugging Face's fused layout: {@code experts.gate_up_proj [E, 2*ff, hidden]} (gate rows, then up rows)
         * and {@code experts.down_proj [E, hidden, ff]}.
         */
        HF,
        /**
         * GPT-OSS's: {@code mlp.experts.gate_up_proj [E, hidden, 2*ff]} with gate and up columns interleaved,
         * {@code mlp.experts.down_proj [E, ff, hidden]}, their biases, and {@code model_type gpt_oss}.
         */
        GPT_OSS
    }

    /** Settings; defaults give the shape of the tiny-mixtral-f32 fixture (about 1 MB). */
    public static final class Builder {
        private ModelFamily family = ModelFamily.MIXTRAL;
        private DType dtype = DType.F32;
        private int hidden = 64;
        private int intermediate = 128;
        private int layers = 2;
        private int heads = 4;
        private int kvHeads = 2;
        private int headDim = 16;
        private int experts = 4;
        private int topK = 2;
        private int vocab = 256;
        private int shards = 2;
        private double routerSkew = 0;
        private long seed = 1;
        private Fused fused = Fused.NONE;

        public Builder family(ModelFamily f) {
            if (f != ModelFamily.MIXTRAL && f != ModelFamily.QWEN3_MOE) {
                throw new IllegalArgumentException("synthetic checkpoints are MIXTRAL or QWEN3_MOE, not " + f);
            }
            this.family = f;
            return this;
        }

        public Builder dtype(DType d) {
            if (d != DType.F32 && d != DType.BF16 && d != DType.F16) {
                throw new IllegalArgumentException("synthetic checkpoints are F32, BF16 or F16, not " + d);
            }
            this.dtype = d;
            return this;
        }

        public Builder hidden(int v) {
            hidden = positive("hidden", v);
            return this;
        }

        public Builder intermediate(int v) {
            intermediate = positive("intermediate", v);
            return this;
        }

        public Builder layers(int v) {
            layers = positive("layers", v);
            return this;
        }

        public Builder heads(int v) {
            heads = positive("heads", v);
            return this;
        }

        public Builder kvHeads(int v) {
            kvHeads = positive("kvHeads", v);
            return this;
        }

        public Builder headDim(int v) {
            headDim = positive("headDim", v);
            return this;
        }

        public Builder experts(int v) {
            experts = positive("experts", v);
            return this;
        }

        public Builder topK(int v) {
            topK = positive("topK", v);
            return this;
        }

        public Builder vocab(int v) {
            vocab = positive("vocab", v);
            return this;
        }

        /** Number of safetensors files; 1 writes a single {@code model.safetensors} without an index. */
        public Builder shards(int v) {
            shards = positive("shards", v);
            return this;
        }

        /** 0 = uniform routing; 1 = a few experts per layer win most tokens. */
        public Builder routerSkew(double v) {
            if (v < 0 || Double.isNaN(v)) {
                throw new IllegalArgumentException("routerSkew must be >= 0");
            }
            routerSkew = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder fused(Fused f) {
            fused = f;
            return this;
        }

        private static int positive(String what, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(what + " must be positive, got " + v);
            }
            return v;
        }

        /** Bytes of tensor data the checkpoint will hold. */
        public long tensorBytes() {
            return tensors().stream().mapToLong(TensorSpec::byteSize).sum();
        }

        List<TensorSpec> tensors() {
            if (heads % kvHeads != 0) {
                throw new IllegalArgumentException("heads (" + heads + ") must be a multiple of kvHeads (" + kvHeads + ")");
            }
            if (topK > experts) {
                throw new IllegalArgumentException("topK (" + topK + ") exceeds experts (" + experts + ")");
            }
            boolean qwen = family == ModelFamily.QWEN3_MOE;
            float skew = (float) routerSkew;
            List<TensorSpec> out = new ArrayList<>();
            long q = (long) heads * headDim;
            long kv = (long) kvHeads * headDim;
            out.add(new TensorSpec("model.embed_tokens.weight", new long[]{vocab, hidden}, dtype, 0, 1, skew,
                    skew > 0 ? null : new boolean[0]));
            SplitMix hot = new SplitMix(seed ^ 0x5EEDL);
            for (int l = 0; l < layers; l++) {
                String p = "model.layers." + l + ".";
                out.add(norm(p + "input_layernorm.weight", hidden));
                out.add(matmul(p + "self_attn.q_proj.weight", q, hidden));
                out.add(matmul(p + "self_attn.k_proj.weight", kv, hidden));
                out.add(matmul(p + "self_attn.v_proj.weight", kv, hidden));
                out.add(matmul(p + "self_attn.o_proj.weight", hidden, q));
                if (qwen) {
                    out.add(norm(p + "self_attn.q_norm.weight", headDim));
                    out.add(norm(p + "self_attn.k_norm.weight", headDim));
                }
                out.add(norm(p + "post_attention_layernorm.weight", hidden));
                boolean[] hotRows = new boolean[experts];
                for (int picked = 0; skew > 0 && picked < Math.min(topK, experts - 1); ) {
                    int e = (int) Math.floorMod(hot.next(), (long) experts);
                    if (!hotRows[e]) {
                        hotRows[e] = true;
                        picked++;
                    }
                }
                // A hot row adds 6*skew/hidden per element along the shared direction: about +4*skew logits.
                out.add(new TensorSpec(p + (qwen ? "mlp.gate.weight" : "block_sparse_moe.gate.weight"),
                        new long[]{experts, hidden}, dtype, 0, (float) (1 / Math.sqrt(hidden)),
                        6 * skew / hidden, hotRows));
                if (fused == Fused.HF) {
                    String x = p + (qwen ? "mlp.experts." : "block_sparse_moe.experts.");
                    out.add(matmul(x + "gate_up_proj", new long[]{experts, 2L * intermediate, hidden}, hidden));
                    out.add(matmul(x + "down_proj", new long[]{experts, hidden, intermediate}, intermediate));
                    continue;
                }
                if (fused == Fused.GPT_OSS) {
                    String x = p + "mlp.experts.";
                    out.add(matmul(x + "gate_up_proj", new long[]{experts, hidden, 2L * intermediate}, hidden));
                    out.add(matmul(x + "gate_up_proj_bias", new long[]{experts, 2L * intermediate}, hidden));
                    out.add(matmul(x + "down_proj", new long[]{experts, intermediate, hidden}, intermediate));
                    out.add(matmul(x + "down_proj_bias", new long[]{experts, hidden}, intermediate));
                    continue;
                }
                for (int e = 0; e < experts; e++) {
                    String x = p + (qwen ? "mlp.experts." : "block_sparse_moe.experts.") + e + ".";
                    out.add(matmul(x + (qwen ? "gate_proj" : "w1") + ".weight", intermediate, hidden));
                    out.add(matmul(x + (qwen ? "up_proj" : "w3") + ".weight", intermediate, hidden));
                    out.add(matmul(x + (qwen ? "down_proj" : "w2") + ".weight", hidden, intermediate));
                }
            }
            out.add(norm("model.norm.weight", hidden));
            out.add(matmul("lm_head.weight", vocab, hidden));
            return out;
        }

        private TensorSpec norm(String name, long n) {
            return new TensorSpec(name, new long[]{n}, dtype, 1, 0.05f, 0, new boolean[0]);
        }

        private TensorSpec matmul(String name, long out, long in) {
            return matmul(name, new long[]{out, in}, in);
        }

        private TensorSpec matmul(String name, long[] shape, long in) {
            return new TensorSpec(name, shape, dtype, 0, (float) (1 / Math.sqrt(in)), 0, new boolean[0]);
        }

        ObjectNode config() {
            ObjectNode c = JSON.createObjectNode();
            boolean qwen = family == ModelFamily.QWEN3_MOE;
            boolean gptOss = fused == Fused.GPT_OSS;
            c.putArray("architectures").add(gptOss ? "GptOssForCausalLM"
                    : qwen ? "Qwen3MoeForCausalLM" : "MixtralForCausalLM");
            c.put("model_type", gptOss ? "gpt_oss" : family.modelType());
            c.put("vocab_size", vocab);
            c.put("hidden_size", hidden);
            c.put("intermediate_size", intermediate);
            if (qwen) {
                c.put("moe_intermediate_size", intermediate);
            }
            c.put("num_hidden_layers", layers);
            c.put("num_attention_heads", heads);
            c.put("num_key_value_heads", kvHeads);
            c.put("head_dim", headDim);
            c.put("rms_norm_eps", qwen ? 1e-6 : 1e-5);
            c.put("rope_theta", qwen ? 1000000.0 : 10000.0);
            c.put("max_position_embeddings", 4096);
            c.put("torch_dtype", switch (dtype) {
                case BF16 -> "bfloat16";
                case F16 -> "float16";
                default -> "float32";
            });
            c.put("tie_word_embeddings", false);
            if (qwen) {
                c.put("num_experts", experts);
                c.put("num_experts_per_tok", topK);
                c.put("norm_topk_prob", true);
                c.put("decoder_sparse_step", 1);
                c.putArray("mlp_only_layers");
            } else {
                c.put("num_local_experts", experts);
                c.put("num_experts_per_tok", topK);
            }
            c.put("strata_synthetic_seed", seed);
            c.put("strata_router_skew", routerSkew);
            return c;
        }

        /** Writes the checkpoint into {@code dir} (created if missing; existing files of the same name replaced). */
        public Result write(Path dir) throws IOException {
            List<TensorSpec> specs = tensors();
            Files.createDirectories(dir);
            Files.write(dir.resolve("config.json"), JSON.writeValueAsBytes(config()));
            List<List<TensorSpec>> parts = split(specs, shards);
            List<Path> files = new ArrayList<>();
            Map<String, String> weightMap = new LinkedHashMap<>();
            float[] direction = direction(seed, hidden);
            ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.LITTLE_ENDIAN);
            long total = 0;
            for (int i = 0; i < parts.size(); i++) {
                String fileName = parts.size() == 1 ? "model.safetensors"
                        : String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, parts.size());
                Path file = dir.resolve(fileName);
                writeFile(file, parts.get(i), direction, buf);
                files.add(file);
                for (TensorSpec t : parts.get(i)) {
                    weightMap.put(t.name(), fileName);
                    total += t.byteSize();
                }
            }
            if (parts.size() > 1) {
                ObjectNode index = JSON.createObjectNode();
                index.putObject("metadata").put("total_size", total);
                ObjectNode wm = index.putObject("weight_map");
                weightMap.forEach(wm::put);
                Files.write(dir.resolve("model.safetensors.index.json"), JSON.writeValueAsBytes(index));
            } else {
                Files.deleteIfExists(dir.resolve("model.safetensors.index.json"));
            }
            return new Result(dir, List.copyOf(weightMap.keySet()), List.copyOf(files), total);
        }

        private void writeFile(Path file, List<TensorSpec> specs, float[] direction, ByteBuffer buf)
                throws IOException {
            ObjectNode header = JSON.createObjectNode();
            header.putObject("__metadata__").put("format", "pt");
            long offset = 0;
            for (TensorSpec t : specs) {
                ObjectNode e = header.putObject(t.name());
                e.put("dtype", t.dtype().name());
                ArrayNode shape = e.putArray("shape");
                for (long d : t.shape()) {
                    shape.add(d);
                }
                e.putArray("data_offsets").add(offset).add(offset + t.byteSize());
                offset += t.byteSize();
            }
            byte[] json = new ObjectMapper().writeValueAsBytes(header);
            int padded = (json.length + 7) & ~7;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                buf.clear();
                buf.putLong(padded);
                buf.put(json);
                for (int i = json.length; i < padded; i++) {
                    buf.put((byte) ' ');
                }
                buf.flip();
                drain(ch, buf);
                for (TensorSpec t : specs) {
                    long tensorSeed = seed * 0x9E3779B97F4A7C15L + t.name().hashCode();
                    TensorFiller.fill(t, new SplitMix(tensorSeed), direction, buf, ch);
                }
            }
        }

        private static List<List<TensorSpec>> split(List<TensorSpec> specs, int n) {
            long total = specs.stream().mapToLong(TensorSpec::byteSize).sum();
            List<List<TensorSpec>> parts = new ArrayList<>();
            List<TensorSpec> cur = new ArrayList<>();
            long acc = 0;
            for (int i = 0; i < specs.size(); i++) {
                TensorSpec t = specs.get(i);
                int remainingTensors = specs.size() - i;
                int remainingParts = n - parts.size() - 1;
                boolean full = acc >= total * (parts.size() + 1) / n;
                if (!cur.isEmpty() && remainingParts > 0 && (full || remainingTensors <= remainingParts)) {
                    parts.add(cur);
                    cur = new ArrayList<>();
                }
                cur.add(t);
                acc += t.byteSize();
            }
            parts.add(cur);
            return parts;
        }
    }

    static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** The shared ±1 direction embeddings and hot router rows lean along. */
    static float[] direction(long seed, int hidden) {
        SplitMix r = new SplitMix(seed ^ 0xD1EC7L);
        float[] d = new float[hidden];
        for (int i = 0; i < hidden; i++) {
            d[i] = (r.next() & 1) == 0 ? 1f : -1f;
        }
        return d;
    }

    /** SplitMix64: tiny, fast and good enough for weights. */
    static final class SplitMix {
        private long state;

        SplitMix(long seed) {
            state = seed;
        }

        long next() {
            long z = (state += 0x9E3779B97F4A7C15L);
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }
}
