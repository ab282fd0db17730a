package io.strata.storage.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.strata.core.util.RegularFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Hugging Face checkpoint: a directory with {@code config.json} and either a sharded set of safetensors files
 * listed by {@code model.safetensors.index.json}, or one or more {@code *.safetensors} files; or a single
 * {@code .safetensors} file. Every tensor is a zero-copy slice of its mapped file.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String INDEX = "model.safetensors.index.json";
    /**
     * The most tensors one checkpoint may have. Real MoE checkpoints have tens of thousands (Qwen3-235B about 37 k);
     * this bound keeps conversion memory and the manifest (a few hundred bytes per tensor) within reach of a
     * small heap and under {@link io.strata.core.manifest.ManifestCodec#MAX_MANIFEST_BYTES}.
     */
    public static final int MAX_TENSORS = 131_072;
    /** config.json and the index are read whole; anything larger than this is not one. */
    static final long MAX_JSON_BYTES = 64L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path source;
    private final JsonNode config;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsTensor> tensors;

    private Checkpoint(Path source, JsonNode config, List<SafetensorsFile> files, Map<String, SafetensorsTensor> tensors) {
        this.source = source;
        this.config = config;
        this.files = files;
        this.tensors = tensors;
    }

    public static Checkpoint open(Path src) {
        if (!Files.exists(src)) {
            throw new CheckpointException(src + ": no such file or directory");
        }
        if (Files.isRegularFile(src)) {
            Path cfg = src.resolveSibling("config.json");
            JsonNode config = Files.exists(cfg) ? readJson(cfg) : JsonNodeFactory.instance.objectNode();
            SafetensorsFile f = SafetensorsFile.open(src);
            return new Checkpoint(src, config, List.of(f), f.tensors());
        }
        Path cfg = src.resolve("config.json");
        JsonNode config = Files.exists(cfg) ? readJson(cfg) : JsonNodeFactory.instance.objectNode();
        Path index = src.resolve(INDEX);
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsTensor> all = new LinkedHashMap<>();
            if (Files.exists(index)) {
                JsonNode weightMap = readJson(index).get("weight_map");
                if (weightMap == null || !weightMap.isObject()) {
                    throw new CheckpointException(index + ": field 'weight_map' is missing or not an object");
                }
                Map<String, SafetensorsFile> byFile = new TreeMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.properties().iterator(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    String fileName = e.getValue().asText();
                    if (fileName.isEmpty() || fileName.contains("/") || fileName.contains("\\")
                            || fileName.startsWith(".") || fileName.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
                        throw new CheckpointException(index + ": weight_map['" + e.getKey() + "']: '" + fileName
                                + "' is not a plain file name");
                    }
                    SafetensorsFile f = byFile.get(fileName);
                    if (f == null) {
                        Path p = src.resolve(fileName);
                        if (!Files.exists(p)) {
                            throw new CheckpointException(index + ": weight_map['" + e.getKey() + "'] names "
                                    + fileName + ", which does not exist");
                        }
                        f = SafetensorsFile.open(p);
                        opened.add(f);
                        byFile.put(fileName, f);
                    }
                    SafetensorsTensor t = f.tensors().get(e.getKey());
                    if (t == null) {
                        throw new CheckpointException(f.path() + ": tensor '" + e.getKey() + "' is listed in "
                                + INDEX + " but missing from this file");
                    }
                    all.put(e.getKey(), t);
                    checkCount(index, all.size());
                }
                for (SafetensorsFile f : byFile.values()) {
                    for (String name : f.tensors().keySet()) {
                        if (!all.containsKey(name)) {
                            throw new CheckpointException(index + ": tensor '" + name + "' of " + f.path().getFileName()
                                    + " has no weight_map entry");
                        }
                    }
                }
            } else {
                List<Path> parts = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(src, "*.safetensors")) {
                    ds.forEach(parts::add);
                } catch (IOException e) {
                    throw new CheckpointException(src + ": cannot list: " + e.getMessage(), e);
                }
                if (parts.isEmpty()) {
                    throw new CheckpointException(src + ": no " + INDEX + " and no *.safetensors files");
                }
                Collections.sort(parts);
                for (Path p : parts) {
                    SafetensorsFile f = SafetensorsFile.open(p);
                    opened.add(f);
                    for (SafetensorsTensor t : f.tensors().values()) {
                        if (all.put(t.name(), t) != null) {
                            throw new CheckpointException(p + ": tensor '" + t.name() + "' also appears in another file");
                        }
                        checkCount(src, all.size());
                    }
                }
            }
            return new Checkpoint(src, config, List.copyOf(opened), Collections.unmodifiableMap(all));
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static void checkCount(Path where, int tensors) {
        if (tensors > MAX_TENSORS) {
            throw new CheckpointException(where + ": more than " + MAX_TENSORS + " tensors (the most a Strata"
                    + " manifest holds)");
        }
    }

    private static JsonNode readJson(Path p) {
        byte[] bytes;
        try {
            bytes = RegularFiles.read(p, MAX_JSON_BYTES);
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            throw new CheckpointException(m.startsWith(p.toString()) ? m : p + ": cannot read: " + m, e);
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw new CheckpointException(p + ": not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new CheckpointException(p + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    public Path source() {
        return source;
    }

    public JsonNode config() {
        return config;
    }

    /** All tensors, in index order (sharded) or file order. */
    public Map<String, SafetensorsTensor> tensors() {
        return tensors;
    }

    public SafetensorsTensor tensor(String name) {
        SafetensorsTensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException(source + ": no tensor named '" + name + "'");
        }
        return t;
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    public long totalBytes() {
        return tensors.values().stream().mapToLong(SafetensorsTensor::byteSize).sum();
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
