/**
 * Strata's vocabulary: the manifest and its codec, model families and element types, the hash functions, memory
 * budgets and ledgers, telemetry, and the weight-source contracts ({@code WeightSource}, {@code PeerTier}) that
 * kernels and loaders meet at. Every package here is API; nothing in core depends on another Strata module.
 */
module io.strata.core {
    requires transitive com.fasterxml.jackson.databind;
    requires jdk.incubator.vector;
    requires jdk.management;
    requires jdk.jfr;

    exports io.strata.core.hash;
    exports io.strata.core.kv;
    exports io.strata.core.manifest;
    exports io.strata.core.memory;
    exports io.strata.core.model;
    exports io.strata.core.telemetry;
    exports io.strata.core.util;
    exports io.strata.core.weights;

    opens io.strata.core.manifest to com.fasterxml.jackson.databind;
}
