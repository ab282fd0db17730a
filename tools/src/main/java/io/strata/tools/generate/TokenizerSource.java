package io.strata.tools.generate;

import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.TokenizerInfo;
import io.strata.storage.gguf.GgufArray;
import io.strata.storage.gguf.GgufFile;
import io.strata.storage.gguf.GgufMetadata;
import io.strata.storage.model.BundledFiles;
import io.strata.storage.model.ModelVerifier;
import io.strata.text.Tokenizer;
import io.strata.text.TokenizerException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a model's tokenizer comes from, so {@code run} and {@code chat} do not care: the files bundled in a
 * converted model directory (checked against the manifest's hashes first), a Hugging Face {@code tokenizer.json}
 * beside the model, or the vocabulary a GGUF file embeds ({@code tokenizer.ggml.*}, {@code tokenizer.chat_template}),
 * read from the file itself or from the {@code tokenizer.gguf} that {@code shard-convert model.gguf} bundles.
 */
@FunctionalInterface
public interface TokenizerSource {
    Tokenizer open();

    /**
     * The tokenizer of {@code model}: a {@code .gguf} file, or a directory (converted model or checkpoint);
     * {@code verify} checks bundled files against the manifest (off with --trust-local).
     */
    static TokenizerSource forModel(Path model, boolean verify) {
        if (Files.isRegularFile(model) && model.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) {
            return gguf(model);
        }
        Path dir = Files.isDirectory(model) ? model : model.toAbsolutePath().getParent();
        return () -> directory(dir, verify);
    }

    /** The vocabulary embedded in a GGUF file's metadata. */
    static TokenizerSource gguf(Path file) {
        return () -> {
            try (GgufFile g = GgufFile.open(file)) {
                return Tokenizer.fromGgufMetadata(plain(g.metadata()), file.toString());
            }
        };
    }

    /** GGUF metadata as the plain map {@link Tokenizer#fromGgufMetadata} takes (arrays as lists). */
    static Map<String, Object> plain(GgufMetadata md) {
        Map<String, Object> out = new HashMap<>();
        for (Map.Entry<String, GgufMetadata.Entry> e : md.entries().entrySet()) {
            Object v = e.getValue().value();
            out.put(e.getKey(), v instanceof GgufArray a ? a.values() : v);
        }
        return out;
    }

    private static Tokenizer directory(Path dir, boolean verify) {
        Path manifestFile = dir.resolve(Manifest.FILE_NAME);
        if (Files.isRegularFile(manifestFile)) {
            Manifest m = ManifestCodec.read(dir);
            if (m.tokenizer() != null && verify) {
                List<ModelVerifier.Problem> bad;
                try {
                    bad = BundledFiles.verify(dir, m);
                } catch (IOException e) {
                    throw new UncheckedIOException(dir + ": cannot read the tokenizer files: " + e.getMessage(), e);
                }
                if (!bad.isEmpty()) {
                    throw new TokenizerException(dir.resolve(bad.getFirst().filename()) + ": "
                            + bad.getFirst().reason() + " (the manifest's tokenizer.files; run strata verify)");
                }
            }
            if (m.tokenizer() != null && !m.tokenizer().files().isEmpty()) {
                // the tokenizer reads its companions when present: one the manifest does not vouch for is refused
                for (String name : TokenizerInfo.FILE_NAMES) {
                    boolean listed = m.tokenizer().files().stream().anyMatch(f -> f.filename().equals(name));
                    if (!listed && Files.exists(dir.resolve(name))) {
                        throw new TokenizerException(dir.resolve(name) + ": not among the manifest's tokenizer.files"
                                + " (added after conversion?): remove it, or convert again with it beside the checkpoint");
                    }
                }
            }
            if (m.tokenizer() != null && TokenizerInfo.GGUF_FILE.equals(m.tokenizer().file())) {
                // the vocabulary of a GGUF file, bundled by shard-convert model.gguf (checked above)
                return gguf(dir.resolve(TokenizerInfo.GGUF_FILE)).open();
            }
            if (m.tokenizer() != null && m.tokenizer().file() != null
                    && !m.tokenizer().file().equals("tokenizer.json")) {
                throw new TokenizerException(manifestFile + ": tokenizer.file '" + m.tokenizer().file()
                        + "' is not a tokenizer.json or " + TokenizerInfo.GGUF_FILE
                        + "; only Hugging Face tokenizer.json files and GGUF vocabularies are read");
            }
        }
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new TokenizerException(dir + ": no tokenizer (no tokenizer.json, and the manifest lists none): "
                    + "convert the checkpoint with its tokenizer files beside it, or give token ids with --prompt-ids");
        }
        return Tokenizer.fromDirectory(dir);
    }
}
