package io.strata.storage.gguf;

/**
 * The value types of GGUF metadata, with their wire ids. {@code minBytes} is the smallest encoding of one value
 * (a string is at least its 8-byte length, an array its type and count): the reader bounds every count by the
 * bytes left in the file divided by it, so a forged count cannot make it allocate or loop beyond the file.
 */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    STRING(8, 8), ARRAY(9, 12), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id;
    private final int minBytes;

    GgufValueType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    public int id() {
        return id;
    }

    int minBytes() {
        return minBytes;
    }

    public boolean isInteger() {
        return this == UINT8 || this == INT8 || this == UINT16 || this == INT16 || this == UINT32 || this == INT32
                || this == UINT64 || this == INT64;
    }

    public boolean isReal() {
        return this == FLOAT32 || this == FLOAT64;
    }

    /** The type with wire id {@code id}, or null. */
    static GgufValueType fromId(long id) {
        for (GgufValueType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
