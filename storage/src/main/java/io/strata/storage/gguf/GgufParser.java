package io.strata.storage.gguf;

import io.strata.core.model.DType;
import io.strata.core.util.Sizes;
import io.strata.storage.safetensors.CheckpointException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * Reads and validates a GGUF header from a mapped file: magic, version (2 or 3, little-endian), metadata, tensor
 * infos, alignment and the data section. Every length and count is checked against the bytes left before it is
 * used, so a forged header fails with a one-line error instead of a huge allocation or a read past the end;
 * nothing is handed out until the whole header, every tensor's extent and the absence of overlaps are checked.
 */
final class GgufParser {
    static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    static final int DEFAULT_ALIGNMENT = 32;
    static final String ALIGNMENT_KEY = "general.alignment";
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** ggml's GGML_MAX_NAME: a tensor name must be shorter. */
    static final int MAX_NAME = 64;
    /** Longest single string accepted (chat templates are kilobytes, token strings bytes). */
    static final long MAX_STRING = 16L << 20;
    static final int MAX_ARRAY_DEPTH = 8;
    /** Smallest encoding of one tensor info: name length, n_dims, one dim, type, offset. */
    private static final int MIN_TENSOR_INFO = 8 + 4 + 8 + 4 + 8;
    /** Smallest encoding of one key/value: key length, one key byte, type, a one-byte value. */
    private static final int MIN_KV = 8 + 1 + 4 + 1;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** What the header says, validated. Tensors are listed in file order. */
    record Header(int version, GgufMetadata metadata, int alignment, long dataOffset, List<Info> tensors) {
    }

    /** One validated tensor info; {@code offset} is absolute in the file. */
    record Info(String name, int index, DType dtype, long[] shape, long offset, long size) {
    }

    private final Path path;
    private final MemorySegment seg;
    private final long size;
    private long pos;

    private GgufParser(Path path, MemorySegment seg) {
        this.path = path;
        this.seg = seg;
        this.size = seg.byteSize();
    }

    static Header parse(Path path, MemorySegment seg) {
        return new GgufParser(path, seg).header();
    }

    private Header header() {
        if (size < 4 + 4 + 8 + 8) {
            throw fail("truncated: " + size + " bytes, shorter than the 24-byte GGUF header");
        }
        int magic = seg.get(U32, 0);
        if (magic != MAGIC) {
            throw fail("not a GGUF file: magic is " + printable(seg.asSlice(0, 4).toArray(ValueLayout.JAVA_BYTE))
                    + ", expected 'GGUF'");
        }
        pos = 4;
        int version = u32("the version");
        if (version != 2 && version != 3) {
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw fail("big-endian GGUF (version " + Integer.reverseBytes(version) + ") is not supported");
            }
            throw fail("GGUF version " + Integer.toUnsignedString(version) + " is not supported (2 and 3 are)");
        }
        long tensorCount = count(u64("the tensor count"), MIN_TENSOR_INFO, "tensor count");
        long kvCount = count(u64("the metadata count"), MIN_KV, "metadata count");

        LinkedHashMap<String, GgufMetadata.Entry> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = string("metadata key #" + i, true);
            if (key.isEmpty()) {
                throw fail("metadata key #" + i + " is empty");
            }
            String where = "metadata '" + key + "'";
            if (kv.containsKey(key)) {
                throw fail(where + " appears twice");
            }
            GgufValueType type = valueType(u32(where + " type"), where);
            kv.put(key, new GgufMetadata.Entry(type, value(type, where, 0)));
        }
        GgufMetadata metadata = new GgufMetadata(path.toString(), kv);
        int alignment = alignment(kv.get(ALIGNMENT_KEY));

        List<Info> infos = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < tensorCount; i++) {
            String name = string("tensor info #" + i + " name", true);
            String where = "tensor '" + name + "'";
            if (name.isEmpty()) {
                throw fail("tensor info #" + i + " has an empty name");
            }
            if (name.getBytes(StandardCharsets.UTF_8).length >= MAX_NAME) {
                throw fail(where + ": name is longer than ggml's limit of " + (MAX_NAME - 1) + " bytes");
            }
            if (!names.add(name)) {
                throw fail(where + " appears twice");
            }
            int nDims = u32(where + " dimension count");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw fail(where + ": " + Integer.toUnsignedString(nDims) + " dimensions (1.." + MAX_DIMS
                        + " allowed)");
            }
            long[] ne = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = u64(where + " dimension " + d);
                if (ne[d] < 0) {
                    throw fail(where + ": dimension " + d + " is " + Long.toUnsignedString(ne[d]) + ", absurd");
                }
            }
            int typeId = u32(where + " type");
            long offset = u64(where + " offset");
            DType dtype = DType.fromGgmlTypeId(typeId).orElseThrow(() -> fail(where + ": ggml "
                    + GgmlTypeNames.describe(Integer.toUnsignedLong(typeId)) + " is not supported (supported: "
                    + GgmlTypeNames.supported() + ")"));
            long[] shape = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                shape[d] = ne[nDims - 1 - d];
            }
            long bytes;
            try {
                long elements = 1;
                for (long d : ne) {
                    elements = Math.multiplyExact(elements, d);
                }
                bytes = dtype.bytesFor(shape);
            } catch (ArithmeticException e) {
                throw fail(where + ": shape " + Arrays.toString(shape) + " overflows");
            } catch (IllegalArgumentException e) {
                throw fail(where + ": row length " + ne[0] + " of shape " + Arrays.toString(shape)
                        + " is not a whole number of " + dtype.blockSize() + "-element " + dtype + " blocks");
            }
            if (offset < 0 || offset % alignment != 0) {
                throw fail(where + ": data offset " + Long.toUnsignedString(offset)
                        + " is not a multiple of the alignment " + alignment);
            }
            infos.add(new Info(name, i, dtype, shape, offset, bytes));
        }
        long dataOffset = Sizes.alignUp(pos, alignment);
        if (dataOffset > size && !infos.isEmpty()) {
            throw fail("truncated: the data section would start at " + dataOffset + ", past the end of the file ("
                    + size + " bytes)");
        }
        long dataLen = Math.max(0, size - dataOffset);
        List<Info> placed = new ArrayList<>(infos.size());
        for (Info t : infos) {
            if (t.offset() > dataLen || t.size() > dataLen - t.offset()) {
                throw fail("tensor '" + t.name() + "': " + t.size() + " bytes at data offset " + t.offset()
                        + " run past the end of the file (the data section has " + dataLen + " bytes): truncated?");
            }
            placed.add(new Info(t.name(), t.index(), t.dtype(), t.shape(), dataOffset + t.offset(), t.size()));
        }
        checkOverlaps(placed);
        return new Header(version, metadata, alignment, dataOffset, List.copyOf(placed));
    }

    private void checkOverlaps(List<Info> infos) {
        List<Info> sorted = new ArrayList<>();
        for (Info t : infos) {
            if (t.size() > 0) {
                sorted.add(t);
            }
        }
        sorted.sort(Comparator.comparingLong(Info::offset).thenComparingLong(Info::size));
        for (int i = 1; i < sorted.size(); i++) {
            Info a = sorted.get(i - 1);
            Info b = sorted.get(i);
            if (b.offset() < a.offset() + a.size()) {
                throw fail("tensors '" + a.name() + "' and '" + b.name() + "' overlap at file offset " + b.offset());
            }
        }
    }

    private int alignment(GgufMetadata.Entry e) {
        if (e == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (e.type() != GgufValueType.UINT32) {
            throw fail("metadata '" + ALIGNMENT_KEY + "' is " + e.type() + ", expected UINT32");
        }
        long a = (Long) e.value();
        if (a <= 0 || Long.bitCount(a) != 1 || a > 1 << 30) {
            throw fail("metadata '" + ALIGNMENT_KEY + "' is " + a + ", expected a power of two");
        }
        return (int) a;
    }

    private Object value(GgufValueType type, String where, int depth) {
        return switch (type) {
            case UINT8 -> (long) Byte.toUnsignedInt(bytes(1, where)[0]);
            case INT8 -> (long) bytes(1, where)[0];
            case UINT16 -> (long) Short.toUnsignedInt(read(U16, 2, where));
            case INT16 -> (long) read(U16, 2, where);
            case UINT32 -> Integer.toUnsignedLong(u32(where));
            case INT32 -> (long) u32(where);
            case UINT64, INT64 -> u64(where);
            case FLOAT32 -> Float.intBitsToFloat(u32(where));
            case FLOAT64 -> Double.longBitsToDouble(u64(where));
            case BOOL -> {
                byte b = bytes(1, where)[0];
                if (b != 0 && b != 1) {
                    throw fail(where + ": BOOL value " + b + " is neither 0 nor 1");
                }
                yield b == 1;
            }
            case STRING -> string(where, false);
            case ARRAY -> {
                if (depth >= MAX_ARRAY_DEPTH) {
                    throw fail(where + ": arrays nested deeper than " + MAX_ARRAY_DEPTH);
                }
                GgufValueType et = valueType(u32(where + " element type"), where);
                long n = count(u64(where + " element count"), et.minBytes(), where + " element count");
                List<Object> values = new ArrayList<>((int) Math.min(n, 1 << 16));
                for (long i = 0; i < n; i++) {
                    values.add(value(et, where, depth + 1));
                }
                yield new GgufArray(et, values);
            }
        };
    }

    private GgufValueType valueType(int id, String where) {
        GgufValueType t = GgufValueType.fromId(Integer.toUnsignedLong(id));
        if (t == null) {
            throw fail(where + ": unknown value type " + Integer.toUnsignedString(id));
        }
        return t;
    }

    /** A count of items each at least {@code minBytes} long: refused when they could not fit in the file. */
    private long count(long n, int minBytes, String what) {
        long left = size - pos;
        if (n < 0 || n > left / minBytes) {
            throw fail(what + " " + Long.toUnsignedString(n) + " is absurd: " + left + " bytes are left, room for at most "
                    + left / minBytes);
        }
        return n;
    }

    private String string(String where, boolean strict) {
        long len = u64(where + " length");
        if (len < 0 || len > MAX_STRING) {
            throw fail(where + ": string length " + Long.toUnsignedString(len) + " is absurd (limit "
                    + MAX_STRING + ")");
        }
        byte[] b = bytes((int) len, where);
        if (!strict) {
            return new String(b, StandardCharsets.UTF_8);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw fail(where + " is not valid UTF-8");
        }
    }

    private int u32(String what) {
        return read(U32, 4, what);
    }

    private long u64(String what) {
        need(8, what);
        long v = seg.get(U64, pos);
        pos += 8;
        return v;
    }

    private int read(ValueLayout.OfInt layout, int n, String what) {
        need(n, what);
        int v = seg.get(layout, pos);
        pos += n;
        return v;
    }

    private short read(ValueLayout.OfShort layout, int n, String what) {
        need(n, what);
        short v = seg.get(layout, pos);
        pos += n;
        return v;
    }

    private byte[] bytes(int n, String what) {
        need(n, what);
        byte[] b = seg.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        return b;
    }

    private void need(long n, String what) {
        if (n > size - pos) {
            throw fail("truncated: " + what + " needs " + n + " bytes at offset " + pos + ", the file has " + size);
        }
    }

    private static String printable(byte[] b) {
        StringBuilder s = new StringBuilder("0x");
        for (byte x : b) {
            s.append(String.format("%02x", x));
        }
        return s.toString();
    }

    private CheckpointException fail(String message) {
        return new CheckpointException(path + ": " + message);
    }
}
