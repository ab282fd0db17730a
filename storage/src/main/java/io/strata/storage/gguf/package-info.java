/**
 * GGUF, llama.cpp's model format: {@link io.strata.storage.gguf.GgufFile} reads and validates a v2/v3 file and
 * hands out its metadata ({@link io.strata.storage.gguf.GgufMetadata}) and tensors
 * ({@link io.strata.storage.gguf.GgufTensor}: ggml type as a {@link io.strata.core.model.DType}, row-major shape,
 * zero-copy segment, file offset); {@link io.strata.storage.gguf.GgufModelConfig} translates the metadata into
 * the Hugging Face config keys the decoder reads; {@link io.strata.storage.gguf.GgufManifest} describes a file as
 * a Strata manifest, so the runtime reads it in place (one unhashed shard, experts as row ranges of the fused
 * tensors); {@link io.strata.storage.gguf.GgufWriter} writes files for tests and synthetic models.
 */
package io.strata.storage.gguf;
