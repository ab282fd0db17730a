/**
 * Bytes on disk: the safetensors and GGUF readers, the converter (shard-convert), the one reader of a converted
 * model's bytes with chunk verification ({@code storage.model}), codecs, file-system safety and the synthetic
 * checkpoint writer. The mapping helper stays inside.
 */
module io.strata.storage {
    requires java.logging;
    requires transitive io.strata.core;
    requires org.lz4.java;
    requires com.github.luben.zstd_jni;

    exports io.strata.storage.codec;
    exports io.strata.storage.convert;
    exports io.strata.storage.fs;
    exports io.strata.storage.gguf;
    exports io.strata.storage.model;
    exports io.strata.storage.safetensors;
    exports io.strata.storage.synth;
}
