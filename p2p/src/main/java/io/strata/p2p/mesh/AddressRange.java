package io.strata.p2p.mesh;

import java.net.InetAddress;
import java.util.List;

/**
 * A block of IP addresses in CIDR notation ({@code 10.0.0.0/8}, {@code fd00::/8}, or a single address). The node
 * dials gossiped addresses only inside its configured ranges; {@link #PRIVATE} (loopback, RFC 1918, link-local and
 * unique-local IPv6) is the default, so a node on a LAN cannot be steered at the internet by a PEERS frame.
 */
public record AddressRange(byte[] network, int prefix) {
    public static final List<AddressRange> PRIVATE = List.of(parse("127.0.0.0/8"), parse("10.0.0.0/8"),
            parse("172.16.0.0/12"), parse("192.168.0.0/16"), parse("169.254.0.0/16"), parse("::1/128"),
            parse("fc00::/7"), parse("fe80::/10"));
    public static final List<AddressRange> ANY = List.of(parse("0.0.0.0/0"), parse("::/0"));

    public AddressRange {
        network = network.clone();
        if (prefix < 0 || prefix > network.length * 8) {
            throw new IllegalArgumentException("prefix /" + prefix + " is longer than the address");
        }
    }

    /** Parses {@code ADDRESS[/PREFIX]} where ADDRESS is an IP literal (no name lookup). */
    public static AddressRange parse(String s) {
        String t = s.trim();
        int slash = t.indexOf('/');
        InetAddress a;
        try {
            a = InetAddress.ofLiteral(slash < 0 ? t : t.substring(0, slash));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + s + "' is not an address range (e.g. 10.0.0.0/8, fd00::/8)");
        }
        int bits = a.getAddress().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + s + "': prefix is not a number");
            }
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException("'" + s + "': prefix must be 0.." + bits);
            }
        }
        return new AddressRange(a.getAddress(), prefix);
    }

    /** Parses a list of ranges; the word {@code private} stands for {@link #PRIVATE}, {@code any} for {@link #ANY}. */
    public static List<AddressRange> parseAll(List<String> specs) {
        List<AddressRange> out = new java.util.ArrayList<>();
        for (String s : specs) {
            switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "private" -> out.addAll(PRIVATE);
                case "any" -> out.addAll(ANY);
                default -> out.add(parse(s));
            }
        }
        return out;
    }

    public boolean contains(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (b[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xFF << (8 - rest) & 0xFF;
        return (b[full] & mask) == (network[full] & mask);
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
