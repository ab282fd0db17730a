package io.strata.core.model;

import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a tensor name means: its {@link Role}, its layer, the routed expert and {@link ExpertProjection} it is,
 * and how tensor parallelism cuts it. Parses the Hugging Face names of every {@link ModelFamily} (the patterns
 * are built from the families' and {@link ModelTensor}'s declared names, so a new family needs no edit here), and
 * maps GGUF names ({@code blk.N.attn_q.weight}) to them.
 */
public final class TensorNaming {
    private static final Pattern EXPERT;
    private static final Pattern ROUTER;
    private static final Pattern LAYER = Pattern.compile("(?:^|.*\\.)layers\\.(\\d+)\\.(.*)");
    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d+)\\.(.*)");

    static {
        Set<String> blocks = new LinkedHashSet<>();
        for (ModelFamily f : ModelFamily.values()) {
            blocks.add(Pattern.quote(f.moeBlock()));
        }
        Set<String> projections = new LinkedHashSet<>();
        for (ExpertProjection p : ExpertProjection.values()) {
            projections.add(p.key());
            projections.add(p.hfName());
        }
        String block = "(?:" + String.join("|", blocks) + ")";
        EXPERT = Pattern.compile("(?:^|.*\\.)layers\\.(\\d+)\\." + block + "\\.experts\\.(\\d+)\\.("
                + String.join("|", projections) + ")\\.weight$");
        ROUTER = Pattern.compile(".*\\." + block + "\\.gate\\.weight$");
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
        if (rank == 1 && name.endsWith(".weight") && lastComponent(name).contains("norm")) {
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

    /** Which projection a routed expert's tensor is, in either spelling ({@code w1} or {@code gate_proj}). */
    public static Optional<ExpertProjection> expertProjection(String name) {
        Matcher m = EXPERT.matcher(name);
        return m.matches() ? ExpertProjection.fromComponent(m.group(3)) : Optional.empty();
    }

    /**
     * Position of an expert tensor inside its group: 0 for gate, 1 for up, 2 for down (the order a SwiGLU expert
     * reads them); -1 when not an expert tensor.
     */
    public static int expertOrder(String name) {
        return expertProjection(name).map(Enum::ordinal).orElse(-1);
    }

    /** The decoder layer a tensor belongs to. */
    public static OptionalInt layer(String name) {
        Matcher m = LAYER.matcher(name);
        return m.matches() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }

    /**
     * The kind of a (non-expert) tensor under any family's Hugging Face names: a global tensor by its full name,
     * a per-layer one by its suffix (the longest that matches, so {@code mlp.shared_expert.gate_proj} is not
     * {@code mlp.gate_proj}).
     */
    public static Optional<ModelTensor> kind(String name) {
        ModelTensor best = null;
        int bestLength = -1;
        for (ModelTensor t : ModelTensor.values()) {
            for (ModelFamily f : ModelFamily.values()) {
                String full = f.tensorName(t, 0);
                if (!t.perLayer()) {
                    if (full.equals(name)) {
                        return Optional.of(t);
                    }
                    continue;
                }
                String suffix = full.substring("model.layers.0.".length());
                if ((name.equals(suffix) || name.endsWith("." + suffix)) && suffix.length() > bestLength) {
                    best = t;
                    bestLength = suffix.length();
                }
            }
        }
        return Optional.ofNullable(best);
    }

    /** How tensor parallelism cuts this tensor; only 2-D projections are cut. */
    public static TpSplit tpSplit(String name, int rank) {
        if (rank != 2) {
            return TpSplit.REPLICATED;
        }
        Optional<ExpertProjection> p = expertProjection(name);
        if (p.isPresent()) {
            return p.get().tpSplit();
        }
        return kind(name).map(ModelTensor::tpSplit).orElse(TpSplit.REPLICATED);
    }

    /**
     * The Hugging Face name, under {@code family}, of a GGUF tensor ({@code blk.3.attn_q.weight} ->
     * {@code model.layers.3.self_attn.q_proj.weight}); empty for names that are not a {@link ModelTensor} (the
     * fused expert tensors are {@link ExpertProjection#ggufFusedName()}).
     */
    public static Optional<String> fromGguf(String ggufName, ModelFamily family) {
        Matcher m = GGUF_LAYER.matcher(ggufName);
        for (ModelTensor t : ModelTensor.values()) {
            if (t.perLayer() && m.matches() && t.ggufSuffix().equals(m.group(2))) {
                return Optional.of(family.tensorName(t, Integer.parseInt(m.group(1))));
            }
            if (!t.perLayer() && t.ggufSuffix().equals(ggufName)) {
                return Optional.of(family.tensorName(t, 0));
            }
        }
        return Optional.empty();
    }

    /** The name without its trailing {@code .weight}/{@code .bias}, last component only (e.g. {@code q_norm}). */
    private static String lastComponent(String name) {
        String s = name;
        int dot = s.lastIndexOf('.');
        if (dot > 0) {
            s = s.substring(0, dot);
        }
        dot = s.lastIndexOf('.');
        return dot >= 0 ? s.substring(dot + 1) : s;
    }
}
