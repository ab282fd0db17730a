package io.strata.tools.generate;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.memory.ModelShape;
import java.util.Map;

/**
 * What the decoder needs of a model's config, checked before any weight is touched: a config at all, positive
 * counts (through {@link ModelShape}, whose messages name the field; {@code num_attention_heads: 0} would otherwise
 * be a division by zero deep in the decoder) and finite positive floats ({@code rms_norm_eps: "NaN"} would
 * otherwise turn every logit into NaN and a run that prints zeros). Also names the likely cause when a step's
 * logits are not finite anyway.
 */
final class ConfigCheck {
    /** Float fields the decoder reads, which must be finite and positive when present. */
    private static final String[] POSITIVE_FLOATS = {"rms_norm_eps", "rope_theta"};

    private ConfigCheck() {
    }

    static void check(JsonNode config, String source) {
        if (config == null || !config.isObject()) {
            throw new IllegalArgumentException(source + ": the manifest has no 'config' object (the model's"
                    + " config.json); convert the checkpoint again with shard-convert");
        }
        try {
            ModelShape.fromConfig(config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage().replaceFirst("^config\\.json: ",
                    "config: "), e);
        }
        for (String f : POSITIVE_FLOATS) {
            JsonNode n = config.get(f);
            if (n != null && !n.isNull() && !(n.isNumber() && Double.isFinite(n.asDouble()) && n.asDouble() > 0)) {
                throw new IllegalArgumentException(source + ": config: field '" + f + "' must be a finite positive"
                        + " number, got " + n);
            }
        }
    }

    /**
     * The error for logits with NaN or infinite entries at {@code step}, naming the cause where one is visible in
     * the config (any non-finite number in it) and else the likely one.
     */
    static IllegalStateException nonFinite(JsonNode config, String source, int step, float[] logits) {
        int nan = 0;
        int inf = 0;
        for (float v : logits) {
            if (Float.isNaN(v)) {
                nan++;
            } else if (Float.isInfinite(v)) {
                inf++;
            }
        }
        String cause = null;
        if (config != null) {
            for (Map.Entry<String, JsonNode> e : config.properties()) {
                JsonNode n = e.getValue();
                boolean bad = n.isNumber() ? !Double.isFinite(n.asDouble())
                        : n.isTextual() && n.asText().matches("(?i)[+-]?(nan|inf|infinity)");
                if (bad) {
                    cause = "config field '" + e.getKey() + "' is " + n;
                    break;
                }
            }
        }
        return new IllegalStateException(source + ": generation step " + step + " produced non-finite logits ("
                + nan + " NaN, " + inf + " infinite of " + logits.length + "): " + (cause != null ? cause
                : "the weights or activations overflow (check the model with strata verify)"));
    }

    static boolean finite(float[] logits) {
        for (float v : logits) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
