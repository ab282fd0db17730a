package io.strata.kernels.decoder;

/** Checkpoint tensor naming of a supported MoE family. */
public enum Architecture {
    MIXTRAL("mixtral", "block_sparse_moe.gate"),
    QWEN3_MOE("qwen3_moe", "mlp.gate");

    private final String modelType;
    private final String router;

    Architecture(String modelType, String router) {
        this.modelType = modelType;
        this.router = router;
    }

    public String modelType() {
        return modelType;
    }

    public static Architecture forModelType(String type) {
        for (Architecture a : values()) {
            if (a.modelType.equals(type)) {
                return a;
            }
        }
        throw new IllegalArgumentException("config.json: model_type '" + type
                + "' is not supported (supported: mixtral, qwen3_moe)");
    }

    public String layer(int layer, String rest) {
        return "model.layers." + layer + "." + rest + ".weight";
    }

    /** Router (gate) weight of a sparse layer, [num_experts, hidden]. */
    public String router(int layer) {
        return layer(layer, router);
    }

    /** Per-head q/k RMSNorm weights exist only in Qwen3. */
    public boolean hasQkNorm() {
        return this == QWEN3_MOE;
    }

    /** Checkpoint name of an expert projection (w1 = gate, w3 = up, w2 = down). */
    public String expert(int layer, int expert, String projection) {
        if (this == MIXTRAL) {
            return layer(layer, "block_sparse_moe.experts." + expert + "." + projection);
        }
        String name = switch (projection) {
            case "w1" -> "gate_proj";
            case "w3" -> "up_proj";
            case "w2" -> "down_proj";
            default -> throw new IllegalArgumentException("unknown expert projection " + projection);
        };
        return layer(layer, "mlp.experts." + expert + "." + name);
    }
}
