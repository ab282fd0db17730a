package io.strata.storage.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.strata.core.model.DType;
import io.strata.storage.mmap.MappedFile;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file, memory-mapped: an 8-byte little-endian header length, a JSON header
 * {@code {name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__": {...}}}, then the data. The header is
 * validated completely before any tensor is handed out: bounded size, known dtypes, offsets inside the data area,
 * sizes equal to product(shape) x dtype size, no overlaps.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers above this are refused (the reference implementation uses 100 MB). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).build());
        JSON.getFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    private final Path path;
    private final MappedFile mapping;
    private final Map<String, SafetensorsTensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, MappedFile mapping, Map<String, SafetensorsTensor> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.mapping = mapping;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        long fileSize;
        try {
            fileSize = Files.size(path);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path + ": no such file", e);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot read: " + e.getMessage(), e);
        }
        if (fileSize < 8) {
            throw new CheckpointException(path + ": truncated: " + fileSize + " bytes, shorter than the 8-byte header length");
        }
        MappedFile map;
        try {
            map = MappedFile.open(path);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot map: " + e.getMessage(), e);
        }
        try {
            MemorySegment seg = map.segment();
            long headerLen = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
                throw new CheckpointException(path + ": header length " + headerLen + " is out of bounds (2.."
                        + MAX_HEADER_BYTES + ")");
            }
            if (headerLen > fileSize - 8) {
                throw new CheckpointException(path + ": header length " + headerLen + " is larger than the file ("
                        + fileSize + " bytes): truncated or not a safetensors file");
            }
            byte[] header = seg.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            long dataStart = 8 + headerLen;
            long dataLen = fileSize - dataStart;
            Map<String, String> meta = new LinkedHashMap<>();
            Map<String, SafetensorsTensor> out = parseHeader(path, header, dataStart, dataLen, map, meta);
            return new SafetensorsFile(path, map, out, meta);
        } catch (RuntimeException e) {
            map.release();
            throw e;
        }
    }

    private static Map<String, SafetensorsTensor> parseHeader(Path path, byte[] header, long dataStart, long dataLen,
                                                              MappedFile map, Map<String, String> meta) {
        Map<String, SafetensorsTensor> out = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        List<String> rangeNames = new ArrayList<>();
        // streamed one entry at a time: a 100 MB header of a million tiny entries must not become a million-node
        // tree before the count is checked
        try (JsonParser p = JSON.createParser(new String(header, StandardCharsets.UTF_8).stripTrailing())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CheckpointException(path + ": header is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                JsonNode t = JSON.readTree(p);
                if (name.equals("__metadata__")) {
                    if (t != null && t.isObject()) {
                        t.properties().forEach(m -> meta.put(m.getKey(), m.getValue().asText()));
                    }
                    continue;
                }
                if (out.size() >= Checkpoint.MAX_TENSORS) {
                    throw new CheckpointException(path + ": header lists more than " + Checkpoint.MAX_TENSORS
                            + " tensors (the most a Strata manifest holds)");
                }
                SafetensorsTensor tensor = tensor(path, name, t, dataStart, dataLen, map);
                if (tensor.byteSize() > 0) {
                    // empty tensors occupy nothing; keeping them in the sorted list would hide overlaps around them
                    ranges.add(new long[]{tensor.fileOffset() - dataStart, tensor.fileOffset() - dataStart + tensor.byteSize(),
                            rangeNames.size()});
                    rangeNames.add(name);
                }
                out.put(name, tensor);
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new CheckpointException(path + ": header is not one JSON object");
            }
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage()
                    : e.getMessage();
            throw new CheckpointException(path + ": header is not valid JSON: " + why, e);
        }
        ranges.sort(Comparator.<long[]>comparingLong(r -> r[0]).thenComparingLong(r -> r[1]));
        for (int i = 1; i < ranges.size(); i++) {
            long[] a = ranges.get(i - 1);
            long[] b = ranges.get(i);
            if (b[0] < a[1]) {
                throw new CheckpointException(path + ": tensors '" + rangeNames.get((int) a[2]) + "' and '"
                        + rangeNames.get((int) b[2]) + "' overlap at data offset " + b[0]);
            }
        }
        return Collections.unmodifiableMap(out);
    }

    private static SafetensorsTensor tensor(Path path, String name, JsonNode t, long dataStart, long dataLen,
                                            MappedFile map) {
        String where = path + ": tensor '" + name + "': ";
        if (t == null || !t.isObject()) {
            throw new CheckpointException(where + "entry is not an object");
        }
        String dtypeName = t.path("dtype").asText(null);
        DType dtype = DType.parse(dtypeName).filter(d -> !d.isQuantized()).orElseThrow(() ->
                new CheckpointException(where + "unknown dtype '" + dtypeName + "' (supported: F32, F16, BF16, I8, U8, I32, I64, F64)"));
        JsonNode shapeNode = t.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new CheckpointException(where + "shape is missing or not an array");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new CheckpointException(where + "shape[" + i + "] is not a non-negative integer: " + d);
            }
            shape[i] = d.asLong();
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException ex) {
                throw new CheckpointException(where + "shape " + shapeNode + " overflows");
            }
        }
        JsonNode offs = t.get("data_offsets");
        if (offs == null || !offs.isArray() || offs.size() != 2 || !integral(offs.get(0)) || !integral(offs.get(1))) {
            throw new CheckpointException(where + "data_offsets must be [begin, end], two integers, got " + offs);
        }
        long begin = offs.get(0).asLong();
        long end = offs.get(1).asLong();
        if (begin < 0 || end < begin || end > dataLen) {
            throw new CheckpointException(where + "data_offsets [" + begin + ", " + end
                    + "] lie outside the data area of " + dataLen + " bytes" + (end > dataLen ? " (file truncated?)" : ""));
        }
        long need;
        try {
            need = Math.multiplyExact(elements, dtype.byteSize());
        } catch (ArithmeticException ex) {
            throw new CheckpointException(where + "size overflows");
        }
        if (end - begin != need) {
            throw new CheckpointException(where + "holds " + (end - begin) + " bytes but shape "
                    + shapeNode + " of " + dtype + " needs " + need);
        }
        return new SafetensorsTensor(name, dtype, shape, path, dataStart + begin, need,
                map.slice(dataStart + begin, need));
    }

    private static boolean integral(JsonNode n) {
        return n != null && n.isIntegralNumber() && n.canConvertToLong();
    }

    public Path path() {
        return path;
    }

    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    public SafetensorsTensor tensor(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException(path + ": no tensor named '" + name + "'");
        }
        return t;
    }

    @Override
    public void close() {
        mapping.release();
    }
}
