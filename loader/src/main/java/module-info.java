/**
 * The tier stack: {@code ModelRuntime} pages experts and tensors through device, host, disk cache, origin and
 * peers under hard budgets. Tiers, the disk cache, the origin source and the prefetcher are implementation
 * ({@code loader.tier}, {@code loader.disk}, {@code loader.source}, {@code loader.prefetch} are not exported); the
 * API is the runtime, handles and cache states, eviction policies, the paged KV store and routing traces.
 */
module io.strata.loader {
    requires java.logging;
    requires transitive io.strata.core;
    requires transitive io.strata.storage;
    requires io.strata.nativeaccess;
    requires com.github.benmanes.caffeine;
    requires jdk.unsupported; // com.sun.nio.file.ExtendedOpenOption.DIRECT, for O_DIRECT reads

    exports io.strata.loader.cache;
    exports io.strata.loader.kv;
    exports io.strata.loader.policy;
    exports io.strata.loader.runtime;
    exports io.strata.loader.trace;
}
