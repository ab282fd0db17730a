package io.strata.core.manifest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import io.strata.core.util.RegularFiles;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads and writes {@code manifest.json}. Writing is deterministic (fixed field order, two-space indent, LF) so the
 * same conversion gives the same manifest hash. Reading validates with {@link ManifestValidator}; a manifest DOPPLER
 * wrote is first turned into Strata's model by {@link DopplerManifest}.
 */
public final class ManifestCodec {
    /** A manifest larger than this is refused before parsing; real ones are a few MB. */
    public static final long MAX_MANIFEST_BYTES = 256L << 20;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT) // an offset of 0.5 is an error, not 0
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength(64 << 20).maxNestingDepth(64).build());
    }

    private ManifestCodec() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Two-space indent and LF whatever the platform: the same manifest gives the same bytes (and hash). */
    private static final com.fasterxml.jackson.databind.ObjectWriter WRITER = MAPPER.writer(
            new com.fasterxml.jackson.core.util.DefaultPrettyPrinter().withObjectIndenter(
                    new com.fasterxml.jackson.core.util.DefaultIndenter("  ", "\n")));

    /** The manifest's JSON, UTF-8, ending in a newline; written straight to bytes (no String copies). */
    public static byte[] toBytes(Manifest m) {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(1 << 16);
            WRITER.writeValue(out, m);
            out.write('\n');
            return out.toByteArray();
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new ManifestException("manifest: cannot serialise: " + why, e);
        }
    }

    /** Parses and validates; {@code source} names the file in error messages. */
    public static Manifest fromBytes(byte[] json, String source) {
        Manifest m;
        try {
            JsonNode tree = MAPPER.readTree(json);
            if (tree != null && tree.isObject() && DopplerManifest.isDoppler(tree)) {
                tree = DopplerManifest.toStrata((ObjectNode) tree, source);
            }
            m = tree == null || tree.isMissingNode() ? null : MAPPER.treeToValue(tree, Manifest.class);
        } catch (IOException e) {
            String why = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
            String field = e instanceof JsonMappingException jme ? fieldPath(jme.getPath()) : "";
            throw new ManifestException(source + ": not a valid manifest: " + (field.isEmpty() ? "" : field + ": ")
                    + why, e);
        }
        if (m == null) {
            throw new ManifestException(source + ": empty manifest");
        }
        ManifestValidator.validate(m, source);
        return m;
    }

    /** The JSON path of a mapping error, e.g. {@code shards[0].size}. */
    private static String fieldPath(List<JsonMappingException.Reference> path) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : path) {
            if (r.getFieldName() != null) {
                sb.append(sb.isEmpty() ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /** Reads {@code dir/manifest.json} (or the file itself when given a file). */
    public static Manifest read(Path dirOrFile) {
        return fromBytes(readBytes(dirOrFile), file(dirOrFile).toString());
    }

    /**
     * The raw bytes of {@code dir/manifest.json} (or of the file itself), size-checked but not parsed: for callers
     * that also need the manifest's hash, which is taken over exactly these bytes.
     */
    public static byte[] readBytes(Path dirOrFile) {
        Path file = file(dirOrFile);
        try {
            return RegularFiles.read(file, MAX_MANIFEST_BYTES);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ManifestException(file + ": no such file (is this a converted model directory?)", e);
        } catch (IOException e) {
            String m = String.valueOf(e.getMessage());
            throw new ManifestException(m.startsWith(file.toString()) ? m : file + ": cannot read: " + m, e);
        }
    }

    private static Path file(Path dirOrFile) {
        return Files.isDirectory(dirOrFile) ? dirOrFile.resolve(Manifest.FILE_NAME) : dirOrFile;
    }

    public static void write(Manifest m, Path file) throws IOException {
        Files.write(file, toBytes(m));
    }
}
