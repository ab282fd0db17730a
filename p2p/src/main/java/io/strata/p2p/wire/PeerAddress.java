package io.strata.p2p.wire;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/** A peer's listen address as gossiped: host name or literal, and port. */
public record PeerAddress(String host, int port) {
    public PeerAddress {
        if (host == null || host.isEmpty() || host.length() > Wire.MAX_HOST_LEN) {
            throw new IllegalArgumentException("peer host '" + host + "' is empty or longer than "
                    + Wire.MAX_HOST_LEN);
        }
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("peer port " + port + " is outside 1..65535");
        }
    }

    /** Parses HOST:PORT (IPv6 literals in brackets). */
    public static PeerAddress parse(String s) {
        String t = s.trim();
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new IllegalArgumentException("'" + s + "' is not HOST:PORT");
        }
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new PeerAddress(host, Integer.parseInt(t.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "': port is not a number", e);
        }
    }

    /** Parses a --listen HOST:PORT, where port 0 (any free port) is allowed; the result is unresolved. */
    public static InetSocketAddress parseListen(String s) {
        String t = s.trim();
        boolean any = t.endsWith(":0");
        PeerAddress p = parse(any ? t.substring(0, t.length() - 2) + ":1" : t);
        return InetSocketAddress.createUnresolved(p.host(), any ? 0 : p.port());
    }

    public static PeerAddress of(InetSocketAddress a) {
        return new PeerAddress(a.getHostString(), a.getPort());
    }

    /** The host as an IP address when it is an IP literal (no name lookup), else null. */
    public InetAddress literal() {
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
