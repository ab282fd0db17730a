package io.strata.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * The checkpoint families Strata knows, told apart by {@code config.json}'s {@code model_type}. Each names the
 * config keys for its expert count and the format string the manifest's moeConfig records.
 */
public enum ModelFamily {
    MIXTRAL("mixtral", "num_local_experts"),
    QWEN3_MOE("qwen3_moe", "num_experts"),
    QWEN2_MOE("qwen2_moe", "num_experts"),
    /** Anything else: converted tensor by tensor, experts recognised by name only. */
    OTHER("other", "num_experts");

    private final String modelType;
    private final String expertCountKey;

    ModelFamily(String modelType, String expertCountKey) {
        this.modelType = modelType;
        this.expertCountKey = expertCountKey;
    }

    /** The {@code model_type} spelling, also used as moeConfig.expertFormat. */
    public String modelType() {
        return modelType;
    }

    public static ModelFamily fromModelType(String modelType) {
        if (modelType != null) {
            String t = modelType.toLowerCase(Locale.ROOT);
            for (ModelFamily f : values()) {
                if (f != OTHER && f.modelType.equals(t)) {
                    return f;
                }
            }
        }
        return OTHER;
    }

    public static ModelFamily fromConfig(JsonNode config) {
        return fromModelType(config == null ? null : config.path("model_type").asText(null));
    }

    /** Experts per MoE layer from the config (0 when the config does not say). */
    public int numExperts(JsonNode config) {
        if (config == null) {
            return 0;
        }
        int n = config.path(expertCountKey).asInt(0);
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
