package io.strata.tools.commands;

import io.strata.core.util.Sizes;
import io.strata.p2p.fetch.ModelFetcher;
import io.strata.p2p.identity.ManifestSignature;
import io.strata.p2p.identity.NodeIdentity;
import io.strata.p2p.mesh.AddressRange;
import io.strata.p2p.node.NodeConfig;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.wire.PeerAddress;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code strata peer}: serve a converted model (or a cache of them) to the mesh until stopped. */
@Command(name = "peer", mixinStandardHelpOptions = true,
        header = "Run a peer node: serve converted models to the mesh and join it.",
        description = {
                "Runs a peer node: serves the shards of a converted model (and of every",
                "model under --cache-dir) to other Strata nodes and joins the mesh through",
                "the given peers. Receivers check every chunk against the manifest's",
                "BLAKE3 hashes. Runs until interrupted (Ctrl-C).",
                "",
                "Hostile peers are held to bounds: 8 connections per address and 64 in",
                "all (idle ones make room for peers that move data), bans by key and",
                "address that decay, bounded buffering per connection, timeouts in every",
                "state; gossiped addresses are dialled only inside --dial-ranges, when",
                "peers on two hosts report them, and at most 2 per gossip round.",
                "",
                "With --sign-key FILE the node signs the model's manifest as its publisher",
                "(creating the Ed25519 key in FILE if missing), writes manifest.sig beside",
                "manifest.json and prints the public key for 'strata fetch --trust'."})
public final class PeerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "Converted model directory (manifest.json + shards).")
    Path model;

    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT",
            description = "Address to listen on (port 0: any free port, printed at start).")
    String listen;

    @Option(names = "--peers", split = ",", paramLabel = "HOST:PORT", description = "Peers to join the mesh through.")
    List<String> peers = List.of();

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Also serve every model directory under DIR (e.g. what 'strata fetch' wrote there).")
    Path cacheDir;

    @Option(names = "--max-upload", paramLabel = "RATE",
            description = "Upload cap per second across all peers, e.g. 100MiB (default: none).")
    String maxUpload;

    @Option(names = "--key", paramLabel = "FILE",
            description = "Node identity key file (created if missing); default: a fresh identity per run.")
    Path key;

    @Option(names = "--sign-key", paramLabel = "FILE",
            description = "Publisher key: sign --model's manifest with it (created if missing).")
    Path signKey;

    @Option(names = "--advertise", paramLabel = "HOST", description = "Host name other nodes should dial.")
    String advertise;

    @Option(names = "--dial-ranges", split = ",", paramLabel = "CIDR", defaultValue = "private",
            description = "Address ranges gossiped peers may be dialled in ('private': loopback, RFC 1918, link-local,"
                    + " unique-local; 'any'); --peers are always dialled (default: ${DEFAULT-VALUE}).")
    List<String> dialRanges;

    @Option(names = "--http", paramLabel = "HOST:PORT",
            description = "Also serve GET /metrics (Prometheus text) and a live status page (GET /) there.")
    String http;

    @Override
    public Integer call() throws Exception {
        if (model == null && cacheDir == null) {
            throw new IllegalArgumentException("give --model DIR or --cache-dir DIR (or both)");
        }
        java.net.InetSocketAddress at = PeerAddress.parseListen(listen);
        NodeConfig cfg = new NodeConfig().bind(at.getHostString(), at.getPort())
                .identity(key == null ? NodeIdentity.generate() : NodeIdentity.loadOrCreate(key))
                .dialRanges(AddressRange.parseAll(dialRanges));
        if (maxUpload != null) {
            cfg.maxUpload(Sizes.parse(maxUpload));
        }
        if (advertise != null) {
            cfg.advertiseHost(advertise);
        }
        PrintWriter out = spec.commandLine().getOut();
        ManifestSignature signature = null;
        if (signKey != null) {
            if (model == null) {
                throw new IllegalArgumentException("--sign-key needs --model DIR (the manifest to sign)");
            }
            NodeIdentity publisher = NodeIdentity.loadOrCreate(signKey);
            signature = ManifestSignature.sign(publisher, Files.readAllBytes(model.resolve("manifest.json")));
            signature.write(model);
            out.println("publisher key " + publisher.id().hex() + " (pass to: strata fetch --trust)");
        }
        LocalModel served = model == null ? null : LocalModel.openServing(model, signature);
        try (PeerNode node = PeerNode.start(cfg);
             io.strata.server.StrataServer web = http == null ? null : startHttp(node)) {
            if (served != null) {
                node.models().add(served);
            }
            if (web != null) {
                out.println("metrics and status page on http://" + web.address().getHostString() + ":"
                        + web.address().getPort());
            }
            int cached = cacheDir == null ? 0 : node.models().addCacheDir(cacheDir);
            out.println("node " + node.id().hex() + " listening on " + node.listenAddress());
            if (served != null) {
                out.println("serving model " + served.hash().hex() + " (" + served.manifest().shards().size()
                        + " shards" + (served.isComplete() ? "" : ", some missing") + ") from " + model);
            }
            if (cacheDir != null) {
                out.println("serving " + cached + " cached model(s) from " + cacheDir);
            }
            out.flush();
            int joined = ModelFetcher.connectAll(node, peers.stream().map(PeerAddress::parse).toList(),
                    Duration.ofSeconds(10));
            if (!peers.isEmpty()) {
                out.println("joined the mesh through " + joined + " of " + peers.size() + " peers");
                out.flush();
            }
            // on SIGTERM the hook waits for the block below to close the node and report (ShutdownWait.close)
            try (ShutdownWait wait = new ShutdownWait(new CountDownLatch(1), "strata-peer-shutdown")) {
                wait.await();
                out.println("served " + node.chunksServed() + " chunks (" + Sizes.format(node.bytesServed()) + ")");
                out.flush();
                if (web != null) {
                    web.close();
                }
                node.close();
            }
        }
        return 0;
    }

    private io.strata.server.StrataServer startHttp(PeerNode node) throws InterruptedException {
        java.net.InetSocketAddress a = PeerAddress.parseListen(http);
        return io.strata.server.StrataServer.start(a.getHostString(), a.getPort(), null, node);
    }
}
