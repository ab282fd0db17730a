package io.strata.storage.gguf;

import io.strata.storage.mmap.MappedFile;
import io.strata.storage.safetensors.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One GGUF file (llama.cpp's format), memory-mapped: metadata by key, tensors by name or in file order, each a
 * zero-copy slice of the mapping with its ggml type as a {@link io.strata.core.model.DType} and its row-major
 * shape. The header is validated completely by {@link GgufParser} before anything is handed out. Tensor segments
 * are valid until {@link #close()} (or, for a holder that {@link MappedFile#retain() retained} the
 * {@link #mapping()}, until its release).
 */
public final class GgufFile implements AutoCloseable {
    private final Path path;
    private final MappedFile mapping;
    private final GgufParser.Header header;
    private final List<GgufTensor> tensors;
    private final Map<String, GgufTensor> byName;

    private GgufFile(Path path, MappedFile mapping, GgufParser.Header header) {
        this.path = path;
        this.mapping = mapping;
        this.header = header;
        List<GgufTensor> list = new ArrayList<>(header.tensors().size());
        Map<String, GgufTensor> map = new LinkedHashMap<>();
        for (GgufParser.Info i : header.tensors()) {
            GgufTensor t = new GgufTensor(i.name(), i.index(), i.dtype(), i.shape(), path, i.offset(), i.size(),
                    mapping.slice(i.offset(), i.size()));
            list.add(t);
            map.put(t.name(), t);
        }
        this.tensors = Collections.unmodifiableList(list);
        this.byName = Collections.unmodifiableMap(map);
    }

    public static GgufFile open(Path path) {
        try {
            if (Files.size(path) == 0) {
                throw new CheckpointException(path + ": truncated: the file is empty");
            }
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path + ": no such file", e);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot read: " + e.getMessage(), e);
        }
        MappedFile map;
        try {
            map = MappedFile.open(path);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot map: " + e.getMessage(), e);
        }
        try {
            return new GgufFile(path, map, GgufParser.parse(path, map.segment()));
        } catch (RuntimeException e) {
            map.release();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** 2 or 3. */
    public int version() {
        return header.version();
    }

    public GgufMetadata metadata() {
        return header.metadata();
    }

    /** {@code general.alignment}, or GGUF's default of 32. */
    public int alignment() {
        return header.alignment();
    }

    /** Absolute file offset of the data section (tensor offsets in the header are relative to it). */
    public long dataOffset() {
        return header.dataOffset();
    }

    /** Tensors in the order of the file's tensor-info table. */
    public List<GgufTensor> tensors() {
        return tensors;
    }

    public Optional<GgufTensor> findTensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public GgufTensor tensor(String name) {
        GgufTensor t = byName.get(name);
        if (t == null) {
            throw new CheckpointException(path + ": no tensor named '" + name + "'");
        }
        return t;
    }

    /** The file's mapping, for a holder that outlives this object ({@link MappedFile#retain()} it). */
    public MappedFile mapping() {
        return mapping;
    }

    @Override
    public void close() {
        mapping.release();
    }
}
