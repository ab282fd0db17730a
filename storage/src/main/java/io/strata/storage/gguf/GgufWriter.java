package io.strata.storage.gguf;

import io.strata.core.model.DType;
import io.strata.core.util.Sizes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF file (version 3 by default, little-endian): metadata in insertion order, then tensor infos, then
 * each tensor's bytes at the next multiple of the alignment, in insertion order. For tests and synthetic models;
 * the bytes of a tensor are taken as they are (quantise them first, e.g. with Strata's quantiser). The file is
 * written beside the target and moved into place, so a failed write leaves nothing behind.
 */
public final class GgufWriter {
    private record Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
    }

    private final Map<String, GgufMetadata.Entry> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int version = 3;
    private int alignment = GgufParser.DEFAULT_ALIGNMENT;

    /** GGUF version 2 or 3 (the same layout for little-endian files). */
    public GgufWriter version(int v) {
        if (v != 2 && v != 3) {
            throw new IllegalArgumentException("GGUF version " + v + " cannot be written (2 or 3)");
        }
        version = v;
        return this;
    }

    /** Sets the data alignment and records it as {@code general.alignment}. */
    public GgufWriter alignment(int a) {
        if (a <= 0 || Integer.bitCount(a) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two: " + a);
        }
        alignment = a;
        metadata.put(GgufParser.ALIGNMENT_KEY, new GgufMetadata.Entry(GgufValueType.UINT32, (long) a));
        return this;
    }

    /**
     * Adds a key: {@code value} boxed as {@link GgufMetadata} documents (any {@link Number} is accepted for the
     * numeric types, a {@link GgufArray} for ARRAY).
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        check(type, value, key);
        metadata.put(key, new GgufMetadata.Entry(type, value));
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putUint32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    /** Adds a tensor of row-major {@code shape}; {@code data} must hold exactly its bytes. */
    public GgufWriter tensor(String name, DType dtype, long[] shape, MemorySegment data) {
        if (dtype.ggmlTypeId() < 0) {
            throw new IllegalArgumentException("tensor '" + name + "': " + dtype + " has no ggml type");
        }
        long need = dtype.bytesFor(shape);
        if (data.byteSize() != need) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes, but shape "
                    + Arrays.toString(shape) + " of " + dtype + " needs " + need);
        }
        tensors.add(new Tensor(name, dtype, shape.clone(), data));
        return this;
    }

    public void write(Path target) {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(header());
                long pos = ch.position();
                long start = Sizes.alignUp(pos, alignment); // the data section starts aligned even when empty
                ch.write(ByteBuffer.allocate((int) (start - pos)));
                pos = start;
                for (Tensor t : tensors) {
                    long at = Sizes.alignUp(pos, alignment);
                    ch.write(ByteBuffer.allocate((int) (at - pos)));
                    ByteBuffer src = t.data().asByteBuffer();
                    while (src.hasRemaining()) {
                        ch.write(src);
                    }
                    pos = at + t.data().byteSize();
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original failure is the one to report
            }
            throw new UncheckedIOException(target + ": cannot write: " + e.getMessage(), e);
        }
    }

    private ByteBuffer header() {
        Out o = new Out();
        o.u32(GgufParser.MAGIC);
        o.u32(version);
        o.u64(tensors.size());
        o.u64(metadata.size());
        metadata.forEach((k, e) -> {
            o.string(k);
            o.u32(e.type().id());
            value(o, e.type(), e.value());
        });
        long offset = 0;
        for (Tensor t : tensors) {
            o.string(t.name());
            o.u32(t.shape().length);
            for (int d = t.shape().length - 1; d >= 0; d--) {
                o.u64(t.shape()[d]);
            }
            o.u32(t.dtype().ggmlTypeId());
            offset = Sizes.alignUp(offset, alignment);
            o.u64(offset);
            offset += t.data().byteSize();
        }
        return o.buffer();
    }

    private static void value(Out o, GgufValueType type, Object v) {
        switch (type) {
            case UINT8, INT8 -> o.u8(((Number) v).intValue());
            case UINT16, INT16 -> o.u16(((Number) v).intValue());
            case UINT32, INT32 -> o.u32(((Number) v).intValue());
            case UINT64, INT64 -> o.u64(((Number) v).longValue());
            case FLOAT32 -> o.u32(Float.floatToRawIntBits(((Number) v).floatValue()));
            case FLOAT64 -> o.u64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
            case BOOL -> o.u8((Boolean) v ? 1 : 0);
            case STRING -> o.string((String) v);
            case ARRAY -> {
                GgufArray a = (GgufArray) v;
                o.u32(a.elementType().id());
                o.u64(a.size());
                for (Object x : a.values()) {
                    value(o, a.elementType(), x);
                }
            }
        }
    }

    private static void check(GgufValueType type, Object v, String where) {
        boolean ok = switch (type) {
            case BOOL -> v instanceof Boolean;
            case STRING -> v instanceof String;
            case ARRAY -> v instanceof GgufArray;
            default -> v instanceof Number;
        };
        if (!ok) {
            throw new IllegalArgumentException("metadata '" + where + "': " + (v == null ? "null" : v.getClass()
                    .getSimpleName()) + " is not a " + type + " value");
        }
        if (v instanceof GgufArray a) {
            for (Object x : a.values()) {
                check(a.elementType(), x, where);
            }
        }
    }

    /** A growable little-endian byte buffer. */
    private static final class Out {
        private ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(int n) {
            if (b.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n))
                        .order(ByteOrder.LITTLE_ENDIAN);
                b.flip();
                bigger.put(b);
                b = bigger;
            }
        }

        void u8(int v) {
            ensure(1);
            b.put((byte) v);
        }

        void u16(int v) {
            ensure(2);
            b.putShort((short) v);
        }

        void u32(int v) {
            ensure(4);
            b.putInt(v);
        }

        void u64(long v) {
            ensure(8);
            b.putLong(v);
        }

        void string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            ensure(bytes.length);
            b.put(bytes);
        }

        ByteBuffer buffer() {
            return b.flip();
        }
    }
}
