package io.strata.storage.convert;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.manifest.TokenizerInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@link ShardConverter} converts, whatever the input format: the tensors to store (already under their
 * manifest names, fused experts already cut per expert), the Hugging Face config the manifest carries, and the
 * tokenizer to bundle. One pipeline (plan, stream, hash, atomic rename) serves every input; a format is one
 * implementation of this interface: {@link SafetensorsSource} (Hugging Face checkpoints, fused expert tensors
 * split by {@link FusedExperts}) and {@link GgufSource} (llama.cpp's GGUF files).
 */
interface ConvertSource extends AutoCloseable {
    /** The path the user named. */
    Path source();

    /** Every tensor to store, in source order; names are unique. */
    List<SourceTensor> tensors();

    /** The Hugging Face config.json the manifest records (the decoder reads it). */
    JsonNode config();

    /** The manifest's {@code architecture}, or null. */
    String architecture();

    /** The modelId when --model-id is not given. */
    String defaultModelId();

    /** Copies or writes the tokenizer into {@code out} and describes it; null when the source has none. */
    TokenizerInfo bundleTokenizer(Path out, long chunkSize);

    @Override
    void close();

    /** Opens {@code src}: a {@code .gguf} file (or any file starting with GGUF's magic), else a checkpoint. */
    static ConvertSource open(Path src) {
        if (isGguf(src)) {
            return GgufSource.open(src);
        }
        return SafetensorsSource.open(src);
    }

    static boolean isGguf(Path src) {
        if (!Files.isRegularFile(src)) {
            return false;
        }
        String name = src.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".gguf")) {
            return true;
        }
        if (name.endsWith(".safetensors")) {
            return false;
        }
        try (InputStream in = Files.newInputStream(src)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
        } catch (IOException e) {
            return false; // the checkpoint reader names the problem
        }
    }

    /** Two source tensors that would be stored under one name: an error, never a silent overwrite. */
    static void checkUnique(List<SourceTensor> tensors, Path src) {
        Map<String, SourceTensor> seen = new HashMap<>();
        for (SourceTensor t : tensors) {
            SourceTensor prev = seen.putIfAbsent(t.name(), t);
            if (prev != null) {
                throw new ConvertException(src + ": tensor '" + t.origin() + "' and tensor '" + prev.origin()
                        + "' would both be stored as '" + t.name() + "'");
            }
        }
    }
}
