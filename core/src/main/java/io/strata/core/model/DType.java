package io.strata.core.model;

import java.util.Locale;
import java.util.Optional;

/** Element types Strata stores and moves. Names are the safetensors/RDRR spellings. */
public enum DType {
    F32(4), F16(2), BF16(2), I8(1), U8(1), I32(4), I64(8), F64(8);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloat() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** Parses a safetensors / manifest dtype name; empty when Strata does not know it. */
    public static Optional<DType> parse(String name) {
        if (name == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(valueOf(name.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
