package io.strata.core.manifest;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The manifest's {@code tokenizer} entry, in DOPPLER's shape ({@code {type: "bundled", file: "tokenizer.json",
 * vocabSize, tokenizerType}}) so its readers find the tokenizer, plus Strata's {@code files}: every tokenizer file
 * copied into the model directory with its hashes, so a converted or fetched model is self-describing and its
 * tokenizer is verified like its shards. Only the fixed Hugging Face file names are allowed: a manifest from a
 * stranger cannot name any other file to be written or read.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"type", "file", "vocabSize", "tokenizerType", "files"})
public record TokenizerInfo(String type, String file, Integer vocabSize, String tokenizerType,
                            List<BundledFile> files) {
    public static final String BUNDLED = "bundled";
    /**
     * The vocabulary a GGUF file embeds ({@code tokenizer.*} metadata), bundled by {@code shard-convert model.gguf}
     * as a GGUF file holding only that metadata.
     */
    public static final String GGUF_FILE = "tokenizer.gguf";
    /** The files shard-convert copies, in this order, when the checkpoint has them (or writes: {@link #GGUF_FILE}). */
    public static final List<String> FILE_NAMES = List.of("tokenizer.json", "tokenizer_config.json",
            "generation_config.json", "chat_template.jinja", GGUF_FILE);
    private static final Pattern HEX32 = Pattern.compile("[0-9a-f]{64}");

    public TokenizerInfo {
        files = files == null ? List.of() : List.copyOf(files);
    }

    /** Checks names, sizes and hash shapes; {@code src} ends in ": " and names the manifest. */
    void validate(String src, long chunkSize) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < files.size(); i++) {
            BundledFile b = files.get(i);
            String f = src + "tokenizer.files[" + i + "]";
            if (b.filename() == null || !FILE_NAMES.contains(b.filename())) {
                throw new ManifestException(f + ".filename: '" + String.valueOf(b.filename()).replaceAll("\\p{Cntrl}",
                        "?") + "' is not a tokenizer file name (one of " + String.join(", ", FILE_NAMES) + ")");
            }
            if (!seen.add(b.filename())) {
                throw new ManifestException(f + ".filename: '" + b.filename() + "' is listed twice");
            }
            if (b.size() < 0) {
                throw new ManifestException(f + ".size: negative");
            }
            hash(f + ".hash", b.hash());
            long want = ShardInfo.chunkCount(b.size(), chunkSize);
            if (b.chunks().size() != want) {
                throw new ManifestException(f + ".chunks: " + b.chunks().size() + " hashes, expected " + want + " for "
                        + b.size() + " bytes in chunks of " + chunkSize);
            }
            for (int c = 0; c < b.chunks().size(); c++) {
                hash(f + ".chunks[" + c + "]", b.chunks().get(c));
            }
        }
        if (BUNDLED.equals(type) && file != null && !files.isEmpty() && !seen.contains(file)) {
            throw new ManifestException(src + "tokenizer.file: '" + file + "' is not among tokenizer.files");
        }
    }

    private static void hash(String field, String hex) {
        if (hex == null || !HEX32.matcher(hex).matches()) {
            throw new ManifestException(field + ": not a 32-byte lowercase hex hash: '" + hex + "'");
        }
    }
}
