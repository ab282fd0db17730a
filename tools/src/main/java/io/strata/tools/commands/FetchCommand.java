package io.strata.tools.commands;

import io.strata.core.util.Sizes;
import io.strata.p2p.fetch.ManifestSource;
import io.strata.p2p.fetch.ModelFetcher;
import io.strata.p2p.fetch.SwarmOptions;
import io.strata.p2p.identity.ManifestSignature;
import io.strata.p2p.identity.NodeIdentity;
import io.strata.p2p.mesh.AddressRange;
import io.strata.p2p.node.NodeConfig;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.wire.ModelHash;
import io.strata.p2p.wire.PeerAddress;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata fetch}: obtain a whole model from the mesh, every chunk verified. */
@Command(name = "fetch", mixinStandardHelpOptions = true,
        header = "Fetch a whole model from the mesh, every chunk verified.",
        description = {
                "Fetches a whole model from the mesh into --out. Chunks come from several",
                "peers at once (rarest first); each is checked against the manifest's",
                "BLAKE3 chunk hash before it is written, and a peer that sends a bad chunk",
                "is banned (a DOPPLER manifest has no chunk hashes: its pieces are checked",
                "by length and each shard by its SHA-256 once complete). Everything is",
                "written into a private staging directory in",
                "--out first; once every shard's whole-file hash matches, the shards and",
                "last manifest.json are moved into place. Files already in --out are never",
                "overwritten (unless --force), except by identical ones; a symlink there is",
                "never written through. Exits 0 only when the directory verifies; on",
                "failure or SIGTERM/Ctrl-C nothing partial is left behind, and staging",
                "directories of killed fetches are removed by the next one. While fetching,",
                "the node serves what it already has to others (on loopback by default).",
                "",
                "MODEL is the manifest's BLAKE3 hash (64 hex digits), or a local",
                "manifest.json naming it."})
public final class FetchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MANIFEST_HASH|manifest.json")
    String model;

    @Option(names = "--peers", required = true, split = ",", paramLabel = "HOST:PORT", description = "Peers to ask.")
    List<String> peers;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write the model to.")
    Path out;

    @Option(names = "--trust", paramLabel = "KEY",
            description = "Refuse a manifest not signed by this publisher key (64 hex digits, or a file holding them).")
    String trust;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:0",
            description = "Where this node serves while fetching; name an interface to serve the LAN (default: "
                    + "${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--force", description = "Replace files in --out that have the model's file names but other contents.")
    boolean force;

    @Option(names = "--dial-ranges", split = ",", paramLabel = "CIDR", defaultValue = "private",
            description = "Address ranges gossiped peers may be dialled in ('private': loopback, RFC 1918, link-local,"
                    + " unique-local; 'any'); --peers are always dialled (default: ${DEFAULT-VALUE}).")
    List<String> dialRanges;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "3600",
            description = "Give up after this many seconds (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--key", paramLabel = "FILE", description = "Node identity key file (created if missing).")
    Path key;

    @Override
    public Integer call() throws Exception {
        byte[] trusted = trust == null ? null : ManifestSignature.parseTrustedKey(trust);
        java.net.InetSocketAddress at = PeerAddress.parseListen(listen);
        NodeConfig cfg = new NodeConfig().bind(at.getHostString(), at.getPort())
                .identity(key == null ? NodeIdentity.generate() : NodeIdentity.loadOrCreate(key))
                .dialRanges(AddressRange.parseAll(dialRanges));
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        PrintWriter pw = spec.commandLine().getOut();
        try (PeerNode node = PeerNode.start(cfg)) {
            List<PeerAddress> addrs = peers.stream().map(PeerAddress::parse).toList();
            int joined = ModelFetcher.connectAll(node, addrs, Duration.ofSeconds(10));
            if (joined == 0) {
                throw new IOException("--peers: none of " + addrs + " could be reached");
            }
            ManifestSource.Obtained m;
            if (model.matches("[0-9a-fA-F]{64}") && !Files.exists(Path.of(model))) {
                m = ManifestSource.fromPeers(node, ModelHash.parse(model.toLowerCase(java.util.Locale.ROOT)),
                        trusted, Duration.ofSeconds(30));
            } else {
                m = ManifestSource.fromFile(Path.of(model), trusted);
            }
            ModelFetcher fetcher = new ModelFetcher(node, SwarmOptions.defaults());
            // SIGTERM / Ctrl-C: stop, and let the fetch delete its staging directory before the JVM exits
            Thread hook = new Thread(() -> fetcher.cancel(Duration.ofSeconds(10)), "strata-fetch-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            ModelFetcher.Result r;
            try {
                r = fetcher.fetch(m, out, timeout, force);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException ignored) {
                    // already shutting down: the hook is waiting for this cleanup
                }
            }
            long bytes = r.stats().bytes();
            pw.printf("fetched model %s into %s: %s in %d chunks, %.2f s (%.1f MiB/s); %d bad chunks rejected, "
                            + "%d peers banned%n", m.hash().hex(), out, Sizes.format(bytes), r.stats().chunks(),
                    r.seconds(), bytes / 1048576.0 / Math.max(r.seconds(), 1e-9), r.stats().rejected(),
                    node.bans().size());
            pw.flush();
        }
        return 0;
    }
}
