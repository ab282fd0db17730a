package io.strata.kernels.decoder;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.model.DType;
import io.strata.core.weights.TensorView;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * A straightforward forward pass written independently of the decoder, as the HF modelling code does it: no KV
 * cache (the whole sequence is recomputed), weights decoded to float arrays up front, dot products accumulated in
 * double. Row-layout tensors only.
 */
final class ReferenceMoe {
    private final Map<String, float[]> w = new java.util.HashMap<>();
    private final JsonNode c;
    private final boolean qwen;
    private final int hidden;
    private final int heads;
    private final int kvHeads;
    private final int hd;
    private final int layers;
    private final int experts;
    private final int topK;
    private final double eps;
    private final double theta;
    /** [position][layer] -> experts chosen in the last call (null for dense layers). */
    int[][][] routing;

    ReferenceMoe(JsonNode config, Map<String, TensorView> tensors) {
        this.c = config;
        for (TensorView t : tensors.values()) {
            w.put(t.name(), decode(t));
        }
        qwen = c.get("model_type").asText().equals("qwen3_moe");
        hidden = c.get("hidden_size").asInt();
        heads = c.get("num_attention_heads").asInt();
        kvHeads = c.get("num_key_value_heads").asInt();
        hd = c.get("head_dim").asInt();
        layers = c.get("num_hidden_layers").asInt();
        experts = c.get(qwen ? "num_experts" : "num_local_experts").asInt();
        topK = c.get("num_experts_per_tok").asInt();
        eps = c.get("rms_norm_eps").asDouble();
        theta = c.get("rope_theta").asDouble();
    }

    private static float[] decode(TensorView t) {
        int n = Math.toIntExact(t.elementCount());
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            if (t.dtype() == DType.F32) {
                out[i] = t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i);
            } else if (t.dtype() == DType.BF16) {
                short s = t.data().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i);
                out[i] = Float.intBitsToFloat((s & 0xFFFF) << 16);
            } else {
                throw new IllegalArgumentException(t.dtype().toString());
            }
        }
        return out;
    }

    private float[] t(String name) {
        float[] a = w.get(name);
        if (a == null) {
            throw new IllegalArgumentException("reference: no tensor " + name);
        }
        return a;
    }

    private String lw(int l, String rest) {
        return "model.layers." + l + "." + rest + ".weight";
    }

    private static float[] linear(float[] m, float[] x, int out, int in) {
        float[] y = new float[out];
        for (int o = 0; o < out; o++) {
            double s = 0;
            for (int i = 0; i < in; i++) {
                s += (double) m[o * in + i] * x[i];
            }
            y[o] = (float) s;
        }
        return y;
    }

    private float[] rms(float[] x, int off, int n, float[] weight) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (double) x[off + i] * x[off + i];
        }
        double inv = 1 / Math.sqrt(ss / n + eps);
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = (float) (weight[i] * (x[off + i] * inv));
        }
        return y;
    }

    private void rope(float[] v, int nHeads, int pos) {
        for (int h = 0; h < nHeads; h++) {
            for (int i = 0; i < hd / 2; i++) {
                double a = pos * Math.pow(theta, -2.0 * i / hd);
                double x1 = v[h * hd + i];
                double x2 = v[h * hd + i + hd / 2];
                v[h * hd + i] = (float) (x1 * Math.cos(a) - x2 * Math.sin(a));
                v[h * hd + i + hd / 2] = (float) (x2 * Math.cos(a) + x1 * Math.sin(a));
            }
        }
    }

    private boolean sparse(int l) {
        if (!qwen) {
            return true;
        }
        for (JsonNode n : c.get("mlp_only_layers")) {
            if (n.asInt() == l) {
                return false;
            }
        }
        return (l + 1) % c.get("decoder_sparse_step").asInt() == 0;
    }

    private float[] mlp(float[] g, float[] u, float[] d, int inter, float[] x) {
        float[] a = linear(g, x, inter, hidden);
        float[] b = linear(u, x, inter, hidden);
        for (int i = 0; i < inter; i++) {
            a[i] = (float) (a[i] / (1 + Math.exp(-a[i])) * b[i]);
        }
        return linear(d, a, hidden, inter);
    }

    /** Logits at the last position of {@code tokens}. */
    float[] logits(List<Integer> tokens) {
        int n = tokens.size();
        float[][] x = new float[n][];
        float[] emb = t("model.embed_tokens.weight");
        for (int p = 0; p < n; p++) {
            x[p] = java.util.Arrays.copyOfRange(emb, tokens.get(p) * hidden, (tokens.get(p) + 1) * hidden);
        }
        routing = new int[n][layers][];
        for (int l = 0; l < layers; l++) {
            float[][] q = new float[n][];
            float[][] k = new float[n][];
            float[][] v = new float[n][];
            for (int p = 0; p < n; p++) {
                float[] xn = rms(x[p], 0, hidden, t(lw(l, "input_layernorm")));
                q[p] = linear(t(lw(l, "self_attn.q_proj")), xn, heads * hd, hidden);
                k[p] = linear(t(lw(l, "self_attn.k_proj")), xn, kvHeads * hd, hidden);
                v[p] = linear(t(lw(l, "self_attn.v_proj")), xn, kvHeads * hd, hidden);
                if (qwen) {
                    for (int h = 0; h < heads; h++) {
                        System.arraycopy(rms(q[p], h * hd, hd, t(lw(l, "self_attn.q_norm"))), 0, q[p], h * hd, hd);
                    }
                    for (int h = 0; h < kvHeads; h++) {
                        System.arraycopy(rms(k[p], h * hd, hd, t(lw(l, "self_attn.k_norm"))), 0, k[p], h * hd, hd);
                    }
                }
                rope(q[p], heads, p);
                rope(k[p], kvHeads, p);
            }
            for (int p = 0; p < n; p++) {
                float[] att = new float[heads * hd];
                for (int h = 0; h < heads; h++) {
                    int g = h / (heads / kvHeads);
                    double[] s = new double[p + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= p; j++) {
                        for (int i = 0; i < hd; i++) {
                            s[j] += (double) q[p][h * hd + i] * k[j][g * hd + i];
                        }
                        s[j] /= Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j <= p; j++) {
                        s[j] = Math.exp(s[j] - max);
                        z += s[j];
                    }
                    for (int i = 0; i < hd; i++) {
                        double acc = 0;
                        for (int j = 0; j <= p; j++) {
                            acc += s[j] / z * v[j][g * hd + i];
                        }
                        att[h * hd + i] = (float) acc;
                    }
                }
                float[] o = linear(t(lw(l, "self_attn.o_proj")), att, hidden, heads * hd);
                for (int i = 0; i < hidden; i++) {
                    x[p][i] += o[i];
                }
                float[] xn = rms(x[p], 0, hidden, t(lw(l, "post_attention_layernorm")));
                float[] out = new float[hidden];
                if (sparse(l)) {
                    String prefix = qwen ? "mlp" : "block_sparse_moe";
                    float[] logits = linear(t(lw(l, prefix + ".gate")), xn, experts, hidden);
                    double[] prob = new double[experts];
                    double max = Double.NEGATIVE_INFINITY;
                    for (float f : logits) {
                        max = Math.max(max, f);
                    }
                    double z = 0;
                    for (int e = 0; e < experts; e++) {
                        prob[e] = Math.exp(logits[e] - max);
                        z += prob[e];
                    }
                    int[] chosen = new int[topK];
                    boolean[] used = new boolean[experts];
                    double chosenSum = 0;
                    for (int j = 0; j < topK; j++) {
                        int best = -1;
                        for (int e = 0; e < experts; e++) {
                            if (!used[e] && (best < 0 || prob[e] > prob[best])) {
                                best = e;
                            }
                        }
                        used[best] = true;
                        chosen[j] = best;
                        chosenSum += prob[best] / z;
                    }
                    routing[p][l] = chosen;
                    boolean renorm = !qwen || c.get("norm_topk_prob").asBoolean();
                    for (int e : chosen) {
                        String[] names = qwen
                                ? new String[] {"gate_proj", "up_proj", "down_proj"} : new String[] {"w1", "w3", "w2"};
                        String base = prefix + ".experts." + e + ".";
                        float[] y = mlp(t(lw(l, base + names[0])), t(lw(l, base + names[1])),
                                t(lw(l, base + names[2])), c.get(qwen ? "moe_intermediate_size" : "intermediate_size")
                                        .asInt(), xn);
                        double weight = prob[e] / z / (renorm ? chosenSum : 1);
                        for (int i = 0; i < hidden; i++) {
                            out[i] += (float) (weight * y[i]);
                        }
                    }
                } else {
                    out = mlp(t(lw(l, "mlp.gate_proj")), t(lw(l, "mlp.up_proj")), t(lw(l, "mlp.down_proj")),
                            c.get("intermediate_size").asInt(), xn);
                }
                for (int i = 0; i < hidden; i++) {
                    x[p][i] += out[i];
                }
            }
        }
        float[] xn = rms(x[n - 1], 0, hidden, t("model.norm.weight"));
        String head = w.containsKey("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight";
        return linear(t(head), xn, c.get("vocab_size").asInt(), hidden);
    }
}
