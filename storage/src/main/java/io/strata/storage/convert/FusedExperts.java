package io.strata.storage.convert;

import io.strata.core.model.DType;
import io.strata.core.model.ExpertProjection;
import io.strata.core.model.ModelFamily;
import io.strata.storage.safetensors.Checkpoint;
import io.strata.storage.safetensors.SafetensorsTensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cuts the fused expert tensors of a safetensors checkpoint into the per-expert w1/w3/w2 (gate, up, down, each
 * {@code [out, in]} like {@code nn.Linear}) that Strata stores one page-aligned group per expert. Two layouts
 * exist, both named {@code model.layers.N.<block>.experts.gate_up_proj} / {@code .down_proj}:
 * <ul>
 * <li>Hugging Face's (transformers 5 Mixtral, Qwen-MoE, OLMoE ...), used with {@code F.linear}:
 * {@code gate_up_proj [E, 2*ff, hidden]}, gate = rows {@code [0, ff)}, up = rows {@code [ff, 2*ff)}
 * ({@code .chunk(2, dim=-1)} of the output); {@code down_proj [E, hidden, ff]}. No transposition: each
 * projection is a contiguous range.</li>
 * <li>GPT-OSS's ({@code model_type gpt_oss}), used as {@code x @ W}: {@code gate_up_proj [E, hidden, 2*ff]} with
 * gate and up INTERLEAVED along the last dimension (gate = columns {@code 0::2}, up = {@code 1::2});
 * {@code down_proj [E, ff, hidden]}. Every projection is the transpose of a strided view; the writer gathers it
 * tile by tile through its bounded staging buffer, never materialising a tensor.</li>
 * </ul>
 * Biases ({@code gate_up_proj_bias}, {@code down_proj_bias}) are not cut; they are stored as the dense tensors
 * they are. Anything that does not fit the layout is a one-line error naming the file and the tensor.
 */
final class FusedExperts {
    private static final Pattern FUSED = Pattern.compile("(?:.*\\.)?layers\\.(\\d+)\\.([A-Za-z_]+)\\.experts\\."
            + "(gate_up_proj|down_proj)");

    private final Checkpoint ckpt;
    private final ModelFamily family;
    private final boolean gptOss;

    FusedExperts(Checkpoint ckpt) {
        this.ckpt = ckpt;
        this.family = ModelFamily.fromConfig(ckpt.config());
        this.gptOss = "gpt_oss".equals(ckpt.config().path("model_type").asText("").toLowerCase(Locale.ROOT));
    }

    boolean claims(SafetensorsTensor t) {
        return FUSED.matcher(t.name()).matches();
    }

    /** The per-expert tensors of one fused tensor, expert by expert. */
    List<SourceTensor> split(SafetensorsTensor t) {
        Matcher m = FUSED.matcher(t.name());
        if (!m.matches()) {
            throw new IllegalArgumentException(t.name());
        }
        int layer = Integer.parseInt(m.group(1));
        boolean gateUp = m.group(3).equals("gate_up_proj");
        String partner = t.name().substring(0, t.name().length() - m.group(3).length())
                + (gateUp ? "down_proj" : "gate_up_proj");
        if (t.rank() != 3) {
            throw fail(t, "a fused expert tensor must be 3-D [experts, ., .], got shape " + shape(t));
        }
        SafetensorsTensor other = ckpt.tensors().get(partner);
        if (other == null) {
            throw fail(t, "no '" + partner + "' beside it: a fused expert layer needs both gate_up_proj and down_proj");
        }
        if (other.rank() != 3 || other.dim(0) != t.dim(0)) {
            throw fail(t, "shape " + shape(t) + " does not match '" + partner + "' " + shape(other)
                    + " (the same number of experts, 3-D)");
        }
        SafetensorsTensor gu = gateUp ? t : other;
        SafetensorsTensor down = gateUp ? other : t;
        // HF:      gate_up [E, 2ff, H], down [E, H, ff];  GPT-OSS: gate_up [E, H, 2ff], down [E, ff, H]
        long hidden = gptOss ? gu.dim(1) : gu.dim(2);
        long twoFf = gptOss ? gu.dim(2) : gu.dim(1);
        long ff = twoFf / 2;
        boolean consistent = twoFf % 2 == 0 && (gptOss
                ? down.dim(1) == ff && down.dim(2) == hidden
                : down.dim(1) == hidden && down.dim(2) == ff);
        if (!consistent) {
            throw fail(t, "shapes gate_up_proj " + shape(gu) + " and down_proj " + shape(down) + " are not the "
                    + (gptOss ? "GPT-OSS layout [E, hidden, 2*ff] / [E, ff, hidden]"
                    : "Hugging Face layout [E, 2*ff, hidden] / [E, hidden, ff]"));
        }
        long configHidden = ckpt.config().path("hidden_size").asLong(hidden);
        if (configHidden != hidden) {
            throw fail(t, "hidden size " + hidden + " from shape " + shape(t) + " is not config.json's hidden_size "
                    + configHidden + (gptOss ? "" : " (a GPT-OSS layout needs model_type gpt_oss)"));
        }
        DType dt = t.dtype();
        int es = dt.byteSize();
        long experts = t.dim(0);
        long perExpert = t.dim(1) * t.dim(2) * es;
        List<SourceTensor> out = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            MemorySegment x = t.data().asSlice(e * perExpert, perExpert);
            String origin = t.name() + "[expert " + e + "]";
            if (gateUp && !gptOss) {
                long half = ff * hidden * es;
                out.add(SourceTensor.contiguous(name(layer, e, ExpertProjection.GATE), origin, dt,
                        new long[]{ff, hidden}, t.file(), x.asSlice(0, half)));
                out.add(SourceTensor.contiguous(name(layer, e, ExpertProjection.UP), origin, dt,
                        new long[]{ff, hidden}, t.file(), x.asSlice(half, half)));
            } else if (!gptOss) {
                out.add(SourceTensor.contiguous(name(layer, e, ExpertProjection.DOWN), origin, dt,
                        new long[]{hidden, ff}, t.file(), x));
            } else if (gateUp) {
                // w1[j][h] = gate_up[h][2j], w3[j][h] = gate_up[h][2j + 1]: rows step 2 elements, columns 2ff
                out.add(new SourceTensor(name(layer, e, ExpertProjection.GATE), origin, dt, new long[]{ff, hidden},
                        t.file(), x, 2L * es, twoFf * es));
                out.add(new SourceTensor(name(layer, e, ExpertProjection.UP), origin, dt, new long[]{ff, hidden},
                        t.file(), x.asSlice(es), 2L * es, twoFf * es));
            } else {
                // w2[h][j] = down[j][h]: the transpose of the expert's [ff, H] block
                out.add(new SourceTensor(name(layer, e, ExpertProjection.DOWN), origin, dt, new long[]{hidden, ff},
                        t.file(), x, es, hidden * es));
            }
        }
        return out;
    }

    private String name(int layer, int expert, ExpertProjection p) {
        return family.expertTensorName(layer, expert, p);
    }

    private static String shape(SafetensorsTensor t) {
        return java.util.Arrays.toString(t.shape());
    }

    private static ConvertException fail(SafetensorsTensor t, String why) {
        return new ConvertException(t.file() + ": tensor '" + t.name() + "': " + why);
    }
}
