package io.strata.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The one home of everything Strata knows about an MoE architecture: how Hugging Face's {@code config.json}
 * names it ({@code model_type}) and its expert counts, what llama.cpp calls it in a GGUF file
 * ({@code general.architecture}), how its tensors are named (the MoE block, the expert projections; the
 * per-kind names are in {@link ModelTensor}), and the facts a decoder needs (q/k norm, RoPE defaults, top-k
 * renormalisation, GGUF's q/k row permutation). The converter, the manifest, the runtime's expert layout and the
 * decoder all ask here; a new family is one more constant.
 */
public enum ModelFamily {
    MIXTRAL(new Spec("mixtral", "llama", "MixtralForCausalLM", "block_sparse_moe", true,
            "num_local_experts", "intermediate_size", true, false, 1e6, Renormalise.ALWAYS, false, true, true)),
    QWEN3_MOE(new Spec("qwen3_moe", "qwen3moe", "Qwen3MoeForCausalLM", "mlp", false,
            "num_experts", "moe_intermediate_size", true, true, 1e4, Renormalise.CONFIG, false, false, true)),
    QWEN2_MOE(new Spec("qwen2_moe", "qwen2moe", "Qwen2MoeForCausalLM", "mlp", false,
            "num_experts", "moe_intermediate_size", false, false, 1e4, Renormalise.CONFIG, true, false, false)),
    OLMOE(new Spec("olmoe", "olmoe", "OlmoeForCausalLM", "mlp", false,
            "num_experts", "intermediate_size", false, true, 1e4, Renormalise.CONFIG, false, false, false)),
    /** Anything else: converted tensor by tensor, experts recognised by name only; no decoder. */
    OTHER(new Spec("other", null, null, "mlp", false, "num_experts", "intermediate_size", false, false, 1e4,
            Renormalise.CONFIG, false, false, false));

    /** Whether the router's top-k weights are renormalised to sum to one. */
    public enum Renormalise {
        /** Always (Mixtral). */
        ALWAYS,
        /** As config.json's {@code norm_topk_prob} says, default false (Qwen, OLMoE). */
        CONFIG
    }

    /**
     * @param expertsUseKeys    expert projections are spelled {@code w1/w3/w2} (else {@code gate_proj/...})
     * @param ggufPermutesQk    llama.cpp stores q/k rows permuted for interleaved RoPE in this GGUF architecture
     * @param ggufRenormalises  llama.cpp renormalises the top-k weights when {@code <arch>.expert_weights_norm}
     *                          is absent
     */
    private record Spec(String modelType, String ggufArch, String hfArchitecture, String moeBlock,
                        boolean expertsUseKeys, String expertCountKey, String expertFfnKey, boolean decoderSupported,
                        boolean qkNorm, double defaultRopeTheta, Renormalise renormalise, boolean sharedExpert,
                        boolean ggufPermutesQk, boolean ggufRenormalises) {
    }

    private final Spec spec;

    ModelFamily(Spec spec) {
        this.spec = spec;
    }

    /** The {@code model_type} spelling, also used as moeConfig.expertFormat. */
    public String modelType() {
        return spec.modelType;
    }

    /** The Hugging Face {@code architectures[0]} class name, e.g. {@code MixtralForCausalLM}. */
    public String hfArchitecture() {
        return spec.hfArchitecture;
    }

    /** llama.cpp's {@code general.architecture} for this family, when GGUF files of it exist. */
    public Optional<String> ggufArchitecture() {
        return Optional.ofNullable(spec.ggufArch);
    }

    /** The config key of the number of routed experts per MoE layer. */
    public String expertCountKey() {
        return spec.expertCountKey;
    }

    /** The config key of one expert's FFN width. */
    public String expertFfnKey() {
        return spec.expertFfnKey;
    }

    /** Whether Strata's decoder runs this family. */
    public boolean decoderSupported() {
        return spec.decoderSupported;
    }

    /** Per-head q/k RMSNorm weights ({@link ModelTensor#Q_NORM}, {@link ModelTensor#K_NORM}). */
    public boolean hasQkNorm() {
        return spec.qkNorm;
    }

    /** {@code rope_theta} when config.json does not say. */
    public double defaultRopeTheta() {
        return spec.defaultRopeTheta;
    }

    public Renormalise renormalise() {
        return spec.renormalise;
    }

    /** An always-on shared expert beside the routed ones (Qwen2-MoE). */
    public boolean hasSharedExpert() {
        return spec.sharedExpert;
    }

    /**
     * llama.cpp permuted q/k rows when it wrote this family's GGUF (arch {@code llama}); Strata keeps them as
     * stored and the config's {@code rope_interleaved} makes the decoder rotate adjacent pairs.
     */
    public boolean ggufPermutesQk() {
        return spec.ggufPermutesQk;
    }

    /** Whether llama.cpp renormalises this family's top-k router weights when the GGUF does not say. */
    public boolean ggufRenormalisesByDefault() {
        return spec.ggufRenormalises;
    }

    /** Every {@code general.architecture} a GGUF family has, for messages. */
    public static List<String> ggufArchitectures() {
        List<String> out = new ArrayList<>();
        for (ModelFamily f : values()) {
            if (f.spec.ggufArch != null) {
                out.add(f.spec.ggufArch);
            }
        }
        return out;
    }

    /** The MoE block's name component ({@code block_sparse_moe} or {@code mlp}). */
    String moeBlock() {
        return spec.moeBlock;
    }

    /** The Hugging Face name of a tensor of this family ({@code layer} ignored for global tensors). */
    public String tensorName(ModelTensor t, int layer) {
        String suffix = t.hfTemplate().replace(ModelTensor.MOE_BLOCK, spec.moeBlock);
        return t.perLayer() ? "model.layers." + layer + "." + suffix : suffix;
    }

    /** The Hugging Face name of one routed expert's projection. */
    public String expertTensorName(int layer, int expert, ExpertProjection p) {
        return "model.layers." + layer + "." + spec.moeBlock + ".experts." + expert + "."
                + (spec.expertsUseKeys ? p.key() : p.hfName()) + ".weight";
    }

    /** Every family Strata's decoder runs, for messages. */
    public static List<String> decoderSupportedTypes() {
        List<String> out = new ArrayList<>();
        for (ModelFamily f : values()) {
            if (f.decoderSupported()) {
                out.add(f.modelType());
            }
        }
        return out;
    }

    public static ModelFamily fromModelType(String modelType) {
        if (modelType != null) {
            String t = modelType.toLowerCase(Locale.ROOT);
            for (ModelFamily f : values()) {
                if (f != OTHER && f.spec.modelType.equals(t)) {
                    return f;
                }
            }
        }
        return OTHER;
    }

    public static ModelFamily fromConfig(JsonNode config) {
        return fromModelType(config == null ? null : config.path("model_type").asText(null));
    }

    /**
     * The family of a GGUF file's {@code general.architecture}. llama.cpp writes Mixtral as {@code llama} with
     * experts; a {@code llama} file without experts is a dense Llama, which is {@link #OTHER}.
     */
    public static ModelFamily fromGgufArchitecture(String arch, boolean hasExperts) {
        if (arch != null) {
            for (ModelFamily f : values()) {
                if (f.spec.ggufArch != null && f.spec.ggufArch.equals(arch)) {
                    return f == MIXTRAL && !hasExperts ? OTHER : f;
                }
            }
        }
        return OTHER;
    }

    /** Experts per MoE layer from the config (0 when the config does not say). */
    public int numExperts(JsonNode config) {
        if (config == null) {
            return 0;
        }
        int n = config.path(spec.expertCountKey).asInt(0);
        if (n == 0) {
            n = Math.max(config.path("num_local_experts").asInt(0), config.path("num_experts").asInt(0));
        }
        return n;
    }

    /** Experts each token is routed to (0 when the config does not say). */
    public static int numExpertsPerToken(JsonNode config) {
        return config == null ? 0 : config.path("num_experts_per_tok").asInt(0);
    }
}
