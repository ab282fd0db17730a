/** The peer node and mesh: identity (Ed25519), the wire protocol, the node, chunk-verified fetch, the shard store. */
module io.strata.p2p {
    requires transitive io.strata.core;
    requires io.strata.storage;
    requires io.netty.common;
    requires io.netty.buffer;
    requires io.netty.transport;
    requires io.netty.codec;
    requires io.netty.handler;
    requires org.bouncycastle.provider;

    exports io.strata.p2p.fetch;
    exports io.strata.p2p.identity;
    exports io.strata.p2p.mesh;
    exports io.strata.p2p.node;
    exports io.strata.p2p.store;
    exports io.strata.p2p.wire;
}
