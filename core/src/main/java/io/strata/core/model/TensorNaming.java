package io.strata.core.model;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Hugging Face tensor name means: its {@link Role}, its layer, the expert it belongs to, its place in an
 * expert group, and how Megatron-style tensor parallelism cuts it. Covers Mixtral
 * ({@code block_sparse_moe.experts.E.w1/w3/w2}, {@code block_sparse_moe.gate}) and Qwen2/Qwen3-MoE
 * ({@code mlp.experts.E.gate_proj/up_proj/down_proj}, {@code mlp.gate}, {@code mlp.shared_expert.*}).
 */
public final class TensorNaming {
    private static final Pattern EXPERT = Pattern.compile(
            "(?:^|.*\\.)layers\\.(\\d+)\\.(?:block_sparse_moe|mlp)\\.experts\\.(\\d+)\\.(w1|w2|w3|gate_proj|up_proj|down_proj)\\.weight$");
    private static final Pattern ROUTER = Pattern.compile(".*\\.(?:block_sparse_moe|mlp)\\.gate\\.weight$");
    private static final Pattern LAYER = Pattern.compile("(?:^|.*\\.)layers\\.(\\d+)\\..*");
    private static final Pattern COLUMN_PARALLEL = Pattern.compile(
            ".*\\.(?:q_proj|k_proj|v_proj|w1|w3|gate_proj|up_proj)\\.weight$");
    private static final Pattern ROW_PARALLEL = Pattern.compile(".*\\.(?:o_proj|w2|down_proj)\\.weight$");

    /** How tensor parallelism cuts a 2-D weight of checkpoint shape [out, in]. */
    public enum TpSplit {
        /** Cut along {@code out}: each rank computes a slice of the outputs (q/k/v, w1/w3, gate/up). */
        COLUMN_PARALLEL,
        /** Cut along {@code in}: each rank consumes a slice of the inputs, results are summed (o, w2/down). */
        ROW_PARALLEL,
        /** Every rank holds the whole tensor (embeddings, lm_head, router, norms, 1-D tensors). */
        REPLICATED
    }

    private TensorNaming() {
    }

    /** The role of a tensor of the given rank (number of dimensions). */
    public static Role role(String name, int rank) {
        if (name.contains("embed_tokens")) {
            return Role.EMBEDDING;
        }
        if (name.startsWith("lm_head") || name.contains(".lm_head")) {
            return Role.LM_HEAD;
        }
        if (expert(name).isPresent()) {
            return Role.EXPERT;
        }
        if (ROUTER.matcher(name).matches()) {
            return Role.ROUTER;
        }
        if (rank == 1 && name.endsWith(".weight") && lastComponents(name).contains("norm")) {
            return Role.NORM;
        }
        if (rank == 2) {
            return Role.MATMUL;
        }
        return Role.OTHER;
    }

    /** The expert a tensor belongs to, when it is a routed expert's weight. */
    public static Optional<ExpertId> expert(String name) {
        Matcher m = EXPERT.matcher(name);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new ExpertId(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))));
    }

    /**
     * Position of an expert tensor inside its group: 0 for w1/gate_proj, 1 for w3/up_proj, 2 for w2/down_proj
     * (the order a SwiGLU expert reads them); -1 when not an expert tensor.
     */
    public static int expertOrder(String name) {
        Matcher m = EXPERT.matcher(name);
        if (!m.matches()) {
            return -1;
        }
        return switch (m.group(3)) {
            case "w1", "gate_proj" -> 0;
            case "w3", "up_proj" -> 1;
            default -> 2;
        };
    }

    /** The decoder layer a tensor belongs to. */
    public static OptionalInt layer(String name) {
        Matcher m = LAYER.matcher(name);
        return m.matches() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }

    /** How tensor parallelism cuts this tensor; only 2-D projections are cut. */
    public static TpSplit tpSplit(String name, int rank) {
        if (rank != 2) {
            return TpSplit.REPLICATED;
        }
        Role r = role(name, rank);
        if (r != Role.MATMUL && r != Role.EXPERT) {
            return TpSplit.REPLICATED;
        }
        if (COLUMN_PARALLEL.matcher(name).matches()) {
            return TpSplit.COLUMN_PARALLEL;
        }
        if (ROW_PARALLEL.matcher(name).matches()) {
            return TpSplit.ROW_PARALLEL;
        }
        return TpSplit.REPLICATED;
    }

    /** The name without its trailing {@code .weight}/{@code .bias}, last component only (e.g. {@code q_norm}). */
    private static String lastComponents(String name) {
        String s = name;
        int dot = s.lastIndexOf('.');
        if (dot > 0) {
            s = s.substring(0, dot);
        }
        dot = s.lastIndexOf('.');
        return dot >= 0 ? s.substring(dot + 1) : s;
    }
}
