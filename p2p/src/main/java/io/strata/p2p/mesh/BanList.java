package io.strata.p2p.mesh;

import io.strata.p2p.identity.NodeId;
import io.strata.p2p.wire.PeerAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Peers this node will not talk to again: by node id (refused at handshake) and by listen address (never dialled).
 * Each ban keeps its reason for diagnostics.
 */
public final class BanList {
    private final Map<NodeId, String> ids = new ConcurrentHashMap<>();
    private final Map<PeerAddress, String> addresses = new ConcurrentHashMap<>();

    public void ban(NodeId id, PeerAddress address, String reason) {
        if (id != null) {
            ids.put(id, reason);
        }
        if (address != null) {
            addresses.put(address, reason);
        }
    }

    public boolean isBanned(NodeId id) {
        return id != null && ids.containsKey(id);
    }

    public boolean isBanned(PeerAddress a) {
        return a != null && addresses.containsKey(a);
    }

    public String reason(NodeId id) {
        return ids.get(id);
    }

    public int size() {
        return ids.size();
    }
}
