package io.strata.tools.commands;

import io.strata.core.hash.Blake3;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.model.Layout;
import io.strata.core.util.Sizes;
import io.strata.p2p.fetch.ManifestSource;
import io.strata.p2p.fetch.ModelFetcher;
import io.strata.p2p.fetch.SwarmOptions;
import io.strata.p2p.node.NodeConfig;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.store.ShardHasher;
import io.strata.p2p.wire.PeerAddress;
import io.strata.storage.fs.FileTrees;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code strata bench fetch}: mesh fetch throughput over loopback (1 and N seeds, verification on) against a plain
 * socket copy of the same bytes (sendfile on the sender, file writes on the receiver) measured in the same run.
 */
@Command(name = "fetch", mixinStandardHelpOptions = true,
        header = "Benchmark mesh fetch over loopback against a plain socket copy.",
        description = {
                "Benchmarks 'strata fetch' over 127.0.0.1. Writes a synthetic model of",
                "--size random bytes (shards + manifest with BLAKE3 chunk hashes), fetches",
                "it from 1 seed and from --seeds seeds with every chunk and shard verified,",
                "and copies the same files over one plain TCP socket (sendfile -> file) as",
                "the baseline. Prints MiB/s of each (best of --repeat) and the ratio to the",
                "baseline, and the BLAKE3 speed, which bounds verification."})
public final class BenchFetchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--size", defaultValue = "1GiB", description = "Model size (default: ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--shard-size", defaultValue = "256MiB", description = "Shard size (default: ${DEFAULT-VALUE}).")
    String shardSize;

    @Option(names = "--chunk", defaultValue = "1MiB", description = "Chunk size (default: ${DEFAULT-VALUE}).")
    String chunk;

    @Option(names = "--seeds", defaultValue = "3", description = "Seeds in the multi-peer run (default: ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--repeat", defaultValue = "2", description = "Runs of each mode; the best is reported (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--dir", description = "Work directory (default: a temporary directory, deleted afterwards).")
    Path dir;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        long total = Sizes.parse(size);
        long shard = Sizes.parse(shardSize);
        long cs = Sizes.parse(chunk);
        boolean temp = dir == null;
        Path work = temp ? Files.createTempDirectory("strata-bench-fetch") : dir;
        try {
            Path origin = work.resolve("origin");
            long t0 = System.nanoTime();
            writeModel(origin, total, shard, cs);
            out.printf("model: %s in shards of %s, chunks of %s (written and hashed in %.1f s)%n",
                    Sizes.format(total), Sizes.format(shard), Sizes.format(cs), (System.nanoTime() - t0) / 1e9);
            Blake3.simdWarmUp().get(); // measure the steady state, not the JIT's warm-up
            out.printf("blake3 (Blake3.hash, 64 MiB): %.0f MiB/s; cores: %d%n", blake3Speed(),
                    Runtime.getRuntime().availableProcessors());
            out.flush();

            double plain = 0;
            double one = 0;
            double many = 0;
            for (int r = 0; r < repeat; r++) {
                plain = Math.max(plain, plainCopy(origin, work.resolve("plain")));
                one = Math.max(one, meshFetch(origin, work.resolve("fetch1"), 1));
                many = Math.max(many, meshFetch(origin, work.resolve("fetchN"), seeds));
            }
            out.printf("%-28s %10s %8s%n", "mode", "MiB/s", "ratio");
            out.printf("%-28s %10.0f %8.2f%n", "plain socket copy", plain, 1.0);
            out.printf("%-28s %10.0f %8.2f%n", "mesh fetch, 1 seed", one, one / plain);
            String label = "mesh fetch, " + seeds + (seeds == 1 ? " seed" : " seeds");
            out.printf("%-28s %10.0f %8.2f%n", label, many, many / plain);
            out.flush();
        } finally {
            if (temp) {
                FileTrees.delete(work);
            }
        }
        return 0;
    }

    private static void writeModel(Path dir, long total, long shardSize, long chunkSize) throws IOException {
        Files.createDirectories(dir);
        SplittableRandom rnd = new SplittableRandom(42);
        List<ShardInfo> shards = new ArrayList<>();
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        long left = total;
        for (int i = 0; left > 0; i++) {
            long n = Math.min(shardSize, left);
            Path f = dir.resolve(String.format("shard_%05d.bin", i));
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                for (long w = 0; w < n; ) {
                    buf.clear();
                    while (buf.remaining() >= 8) {
                        buf.putLong(rnd.nextLong());
                    }
                    buf.flip();
                    buf.limit((int) Math.min(buf.limit(), n - w));
                    w += ch.write(buf);
                }
            }
            shards.add(ShardHasher.describe(i, f, chunkSize));
            left -= n;
        }
        Manifest m = new Manifest(1, "bench-fetch", "transformer", "Synthetic", null, "F32", Manifest.HASH_BLAKE3,
                chunkSize, Layout.ROW, total, null, shards, null, null);
        ManifestCodec.write(m, dir.resolve(Manifest.FILE_NAME));
    }

    private static double blake3Speed() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(64L << 20);
            Blake3.hash(s);
            long t = System.nanoTime();
            Blake3.hash(s);
            return 64 / ((System.nanoTime() - t) / 1e9);
        }
    }

    /** MiB/s of fetching {@code origin} from {@code n} seeds into {@code out}, verification on. */
    private static double meshFetch(Path origin, Path out, int n) throws Exception {
        FileTrees.delete(out);
        List<PeerNode> nodes = new ArrayList<>();
        try {
            List<PeerAddress> addrs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                PeerNode seed = PeerNode.start(new NodeConfig().bind("127.0.0.1", 0));
                seed.models().add(LocalModel.openServing(origin, null));
                nodes.add(seed);
                addrs.add(seed.listenAddress());
            }
            PeerNode fetcher = PeerNode.start(new NodeConfig().bind("127.0.0.1", 0));
            nodes.add(fetcher);
            ModelFetcher.connectAll(fetcher, addrs, Duration.ofSeconds(10));
            ManifestSource.Obtained m = ManifestSource.fromFile(origin.resolve(Manifest.FILE_NAME), null);
            ModelFetcher.Result r = new ModelFetcher(fetcher, SwarmOptions.defaults()).fetch(m, out,
                    Duration.ofMinutes(10));
            return r.stats().bytes() / 1048576.0 / r.seconds();
        } finally {
            for (PeerNode node : nodes) {
                node.close();
            }
            FileTrees.delete(out);
        }
    }

    /** MiB/s of copying every shard over one plain TCP connection (sendfile → socket → file). */
    private static double plainCopy(Path origin, Path out) throws Exception {
        FileTrees.delete(out);
        Files.createDirectories(out);
        List<Path> files;
        try (Stream<Path> s = Files.list(origin)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".bin")).sorted().toList();
        }
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            Thread sender = Thread.ofPlatform().name("bench-plain-sender").start(() -> {
                try (SocketChannel c = server.accept()) {
                    for (Path f : files) {
                        try (FileChannel fc = FileChannel.open(f, StandardOpenOption.READ)) {
                            long size = fc.size();
                            for (long p = 0; p < size; ) {
                                p += fc.transferTo(p, size - p, c);
                            }
                        }
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long t0 = System.nanoTime();
            long bytes = 0;
            try (SocketChannel c = SocketChannel.open(server.getLocalAddress())) {
                ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
                for (Path f : files) {
                    long size = Files.size(f);
                    try (FileChannel fc = FileChannel.open(out.resolve(f.getFileName()), StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE)) {
                        for (long got = 0; got < size; ) {
                            buf.clear();
                            buf.limit((int) Math.min(buf.capacity(), size - got));
                            int n = c.read(buf);
                            if (n < 0) {
                                throw new IOException("plain copy: early EOF");
                            }
                            buf.flip();
                            while (buf.hasRemaining()) {
                                fc.write(buf);
                            }
                            got += n;
                        }
                        fc.force(false);
                    }
                    bytes += size;
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            sender.join();
            return bytes / 1048576.0 / secs;
        } finally {
            FileTrees.delete(out);
        }
    }
}
