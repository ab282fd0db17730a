package io.strata.p2p.node;

import io.strata.p2p.wire.ModelHash;

/** Connection and have-map events of a node; called on event-loop threads, so keep them short. */
public interface NodeListener {
    default void connected(PeerConnection c) {
    }

    default void disconnected(PeerConnection c) {
    }

    default void haveChunk(PeerConnection c, ModelHash model, int shard, int chunk) {
    }
}
