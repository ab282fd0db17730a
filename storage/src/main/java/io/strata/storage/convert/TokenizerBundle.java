package io.strata.storage.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.manifest.BundledFile;
import io.strata.core.manifest.TokenizerInfo;
import io.strata.storage.model.ShardHasher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Copies a checkpoint's tokenizer files ({@link TokenizerInfo#FILE_NAMES}) into the converted model and describes
 * them for the manifest, so the model directory carries its own tokenizer, hashed like its shards. The tokenizer
 * is not interpreted here beyond the two fields DOPPLER records ({@code model.type}, the vocabulary size): a
 * tokenizer the text library cannot run still converts, and {@code run} names what it cannot handle.
 */
final class TokenizerBundle {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerBundle() {
    }

    /** The manifest entry for the files copied from beside {@code source} into {@code out}; null when none. */
    static TokenizerInfo copy(Path source, Path out, long chunkSize) {
        Path dir = Files.isDirectory(source) ? source : source.toAbsolutePath().getParent();
        List<BundledFile> files = new ArrayList<>();
        for (String name : TokenizerInfo.FILE_NAMES) {
            Path from = dir.resolve(name);
            if (!Files.exists(from, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            if (!Files.isRegularFile(from)) {
                throw new ConvertException(from + ": not a regular file (a tokenizer file is copied into the model)");
            }
            Path to = out.resolve(name);
            try {
                Files.copy(from, to);
                files.add(BundledFile.of(ShardHasher.describe(0, to, chunkSize)));
            } catch (IOException e) {
                throw new ConvertException(from + ": cannot copy into " + out + ": " + e.getMessage(), e);
            }
        }
        if (files.isEmpty()) {
            return null;
        }
        if (files.stream().noneMatch(f -> f.filename().equals("tokenizer.json"))) {
            return new TokenizerInfo(null, null, null, null, files);
        }
        Path json = dir.resolve("tokenizer.json");
        JsonNode model;
        try {
            model = JSON.readTree(json.toFile()).path("model");
        } catch (IOException e) {
            throw new ConvertException(json + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("")
                    + "); fix or remove it to convert without a tokenizer", e);
        }
        JsonNode vocab = model.path("vocab");
        Integer vocabSize = vocab.isObject() || vocab.isArray() ? vocab.size() : null;
        String type = model.path("type").isTextual() ? model.path("type").asText().toLowerCase(Locale.ROOT) : null;
        return new TokenizerInfo(TokenizerInfo.BUNDLED, "tokenizer.json", vocabSize, type, files);
    }
}
