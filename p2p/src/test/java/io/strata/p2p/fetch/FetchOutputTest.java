package io.strata.p2p.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.ManifestCodec;
import io.strata.p2p.Countdown;
import io.strata.p2p.Mesh;
import io.strata.p2p.NettyLeaks;
import io.strata.p2p.Responders;
import io.strata.p2p.TestModels;
import io.strata.p2p.identity.ManifestSignature;
import io.strata.p2p.identity.NodeIdentity;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.store.OutputStaging;
import io.strata.p2p.wire.ModelHash;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fetch --out DIR} touches nothing in DIR but the model's own files, and nothing outside DIR. */
class FetchOutputTest {
    static {
        NettyLeaks.install();
    }

    private static final long CHUNK = 16 << 10;
    private static final byte[] USER = "the user's own file\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    /** A seed serving {@code origin} and a fetcher connected to it. */
    private static PeerNode fetcherOf(Mesh mesh, Path origin) throws Exception {
        PeerNode seed = mesh.start();
        seed.models().add(LocalModel.openServing(origin, null));
        PeerNode n = mesh.start();
        assertEquals(1, ModelFetcher.connectAll(n, List.of(seed.listenAddress()), Mesh.WAIT));
        return n;
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aManifestNamingAUserFileOrStrataFilesIsRefusedBeforeAnythingIsWritten() throws Exception {
        for (String bad : List.of("notes.txt", "manifest.json", "manifest.json.tmp", "manifest.sig", "x.bin.part",
                "shard.bin ", "-rf.bin")) {
            Path origin = tmp.resolve("origin-" + Math.abs(bad.hashCode()));
            TestModels.writeNamed(origin, CHUNK, 41, List.of("shard_00000.bin", bad), 30_000, 20_000);
            byte[] json = Files.readAllBytes(origin.resolve("manifest.json"));
            IOException e = assertThrows(IOException.class,
                    () -> ManifestSource.fromFile(origin.resolve("manifest.json"), null), bad);
            assertTrue(e.getMessage().contains("shards[1].filename"), e.getMessage());

            // the same manifest straight to the fetcher (as a peer would hand it over): refused, nothing touched
            Path out = tmp.resolve("out");
            Files.createDirectories(out);
            Files.write(out.resolve("notes.txt"), USER);
            ManifestSource.Obtained m = new ManifestSource.Obtained(ModelHash.ofManifest(json), json,
                    ManifestCodec.fromBytes(json, "test"), null);
            try (Mesh mesh = new Mesh()) {
                PeerNode n = mesh.start();
                assertThrows(IOException.class, () -> new ModelFetcher(n, Mesh.swarm()).fetch(m, out, Mesh.WAIT));
            }
            assertEquals(List.of("notes.txt"), names(out), bad);
            assertArrayEquals(USER, Files.readAllBytes(out.resolve("notes.txt")));
        }
    }

    @Test
    void existingFilesAreNotOverwrittenWithoutForce() throws Exception {
        Path origin = tmp.resolve("origin");
        ModelHash hash = TestModels.write(origin, CHUNK, 42, 50_000, 40_000);
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        Files.write(out.resolve("shard_00001.bin"), USER);
        try (Mesh mesh = new Mesh()) {
            PeerNode n = fetcherOf(mesh, origin);
            ManifestSource.Obtained m = ManifestSource.fromPeers(n, hash, null, Mesh.WAIT);
            IOException e = assertThrows(IOException.class, () -> new ModelFetcher(n, Mesh.swarm()).fetch(m, out,
                    Mesh.WAIT));
            assertTrue(e.getMessage().contains("shard_00001.bin") && e.getMessage().contains("--force"),
                    e.getMessage());
            assertEquals(List.of("shard_00001.bin"), names(out), "nothing added");
            assertArrayEquals(USER, Files.readAllBytes(out.resolve("shard_00001.bin")), "nothing overwritten");

            Files.delete(out.resolve("shard_00001.bin"));
            Files.write(out.resolve("manifest.json"), USER); // another model's manifest, say
            assertThrows(IOException.class, () -> new ModelFetcher(n, Mesh.swarm()).fetch(m, out, Mesh.WAIT));
            assertArrayEquals(USER, Files.readAllBytes(out.resolve("manifest.json")));

            Files.write(out.resolve("shard_00001.bin"), USER);
            new ModelFetcher(n, Mesh.swarm()).fetch(m, out, Mesh.WAIT, true);
            assertNull(TestModels.verify(origin, out), "with --force both are replaced");

            ModelFetcher.Result again = new ModelFetcher(n, Mesh.swarm()).fetch(m, out, Mesh.WAIT);
            assertEquals(0, again.stats().chunks(), "an identical model already there is not an overwrite");
            assertNull(TestModels.verify(origin, out));
        }
    }

    @Test
    void aSymlinkPlantedInTheOutputNeverMakesFetchWriteOutsideIt() throws Exception {
        Path origin = tmp.resolve("origin");
        TestModels.write(origin, CHUNK, 43, 50_000, 40_000);
        ManifestSignature.sign(NodeIdentity.generate(), Files.readAllBytes(origin.resolve("manifest.json")))
                .write(origin);
        Path outside = tmp.resolve("outside");
        Files.createDirectories(outside);
        Path victim = Files.write(outside.resolve("victim.txt"), USER);
        Path victim2 = Files.write(outside.resolve("victim2.txt"), USER);
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        List<String> planted = List.of("manifest.json.tmp", "manifest.sig.tmp", "shard_00000.bin.part",
                "shard_00001.bin.part");
        for (String name : planted) {
            Files.createSymbolicLink(out.resolve(name), victim);
        }
        Files.createSymbolicLink(out.resolve("shard_00001.bin"), victim2);
        try (Mesh mesh = new Mesh()) {
            PeerNode n = fetcherOf(mesh, origin);
            ManifestSource.Obtained m = ManifestSource.fromFile(origin.resolve("manifest.json"), null);
            assertThrows(IOException.class, () -> new ModelFetcher(n, Mesh.swarm()).fetch(m, out, Mesh.WAIT),
                    "a link in a shard's place is an existing file: refused without --force");
            new ModelFetcher(n, Mesh.swarm()).fetch(m, out, Mesh.WAIT, true);
        }
        assertArrayEquals(USER, Files.readAllBytes(victim), "nothing written through the planted links");
        assertArrayEquals(USER, Files.readAllBytes(victim2));
        assertTrue(Files.isRegularFile(out.resolve("shard_00001.bin"), LinkOption.NOFOLLOW_LINKS),
                "--force replaced the link itself with the shard");
        assertArrayEquals(Files.readAllBytes(origin.resolve("shard_00001.bin")),
                Files.readAllBytes(out.resolve("shard_00001.bin")));
        for (String name : planted) {
            assertTrue(Files.isSymbolicLink(out.resolve(name)), "links that are not the model's are left alone");
        }
        assertTrue(Files.isRegularFile(out.resolve("manifest.sig"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void staleStagingDirectoriesOfDeadFetchesAreSweptAndLiveOnesKept() throws Exception {
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        ProcessHandle me = ProcessHandle.current();
        long start = me.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
        Path live = Files.createDirectories(out.resolve(".strata-fetch-" + me.pid() + "-" + start + "-aa"));
        Path dead = Files.createDirectories(out.resolve(".strata-fetch-" + me.pid() + "-1-bb")); // pid reused
        Files.write(dead.resolve("shard_00000.bin"), new byte[1000]);
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor(10, TimeUnit.SECONDS);
        Path deadPid = Files.createDirectories(out.resolve(".strata-fetch-" + gone.pid() + "-0-cc"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.write(outside.resolve("keep.txt"), USER);
        Path link = Files.createSymbolicLink(out.resolve(".strata-fetch-1-1-dd"), outside);

        assertEquals(3, OutputStaging.sweep(out));
        assertTrue(Files.isDirectory(live), "a running fetch's staging directory is kept");
        assertFalse(Files.exists(dead, LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(deadPid, LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS), "the link is removed");
        assertArrayEquals(USER, Files.readAllBytes(outside.resolve("keep.txt")), "not what it pointed to");
    }

    @Test
    void cancellingAFetchMidTransferLeavesNothingBehind() throws Exception {
        Path origin = tmp.resolve("origin");
        TestModels.write(origin, CHUNK, 44, 40 * CHUNK, 30 * CHUNK);
        Path out = tmp.resolve("out");
        Countdown served = new Countdown(1);
        try (Mesh mesh = new Mesh()) {
            PeerNode seed = mesh.start(Mesh.config().responder(Responders.stallAfter(5, served, new AtomicInteger())));
            seed.models().add(LocalModel.openServing(origin, null));
            PeerNode n = mesh.start();
            ModelFetcher.connectAll(n, List.of(seed.listenAddress()), Mesh.WAIT);
            ManifestSource.Obtained m = ManifestSource.fromFile(origin.resolve("manifest.json"), null);
            ModelFetcher fetcher = new ModelFetcher(n, Mesh.swarm());
            CompletableFuture<ModelFetcher.Result> f = CompletableFuture.supplyAsync(() -> {
                try {
                    return fetcher.fetch(m, out, Mesh.WAIT);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            served.opened().get(20, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!hasStagedBytes(out) && System.nanoTime() < deadline) {
                Thread.sleep(20); // polling interval of a bounded wait
            }
            assertTrue(hasStagedBytes(out), "chunks were written to the staging directory");
            assertTrue(fetcher.cancel(Duration.ofSeconds(10)), "the fetch settled");
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("cancelled"), e.getCause().getMessage());
            assertFalse(Files.exists(out), "nothing partial, not even the directory the fetch created");
        }
    }

    private static boolean hasStagedBytes(Path out) throws IOException {
        if (!Files.isDirectory(out)) {
            return false;
        }
        try (Stream<Path> s = Files.walk(out)) {
            return s.anyMatch(p -> p.toString().contains(".strata-fetch-") && Files.isRegularFile(p)
                    && p.toFile().length() > 0);
        }
    }
}
