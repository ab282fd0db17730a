package io.strata.p2p.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.ManifestCodec;
import io.strata.p2p.Countdown;
import io.strata.p2p.Mesh;
import io.strata.p2p.NettyLeaks;
import io.strata.p2p.Responders;
import io.strata.p2p.TestModels;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.wire.ModelHash;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshPeerTierTest {
    static {
        NettyLeaks.install();
    }

    private static final int CHUNK = 4096;

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    @Test
    void fetchesExactlyTheRequestedChunksVerifiedDespiteALyingPeer(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        ModelHash hash = TestModels.write(origin, CHUNK, 31, 5 * CHUNK, 9 * CHUNK + 100);
        Countdown liarAsked = new Countdown(1);
        // The honest peer answers only once the runtime has dropped the liar: had it answered as soon as the liar
        // was asked, its chunks could be verified first, the fetch finish, and the liar's piece be cancelled unseen.
        CompletableFuture<Void> liarDropped = new CompletableFuture<>();
        try (Mesh mesh = new Mesh()) {
            PeerNode honest = mesh.start(Mesh.config().responder(Responders.gated(liarDropped)));
            PeerNode liar = mesh.start(Mesh.config().responder(Responders.flipping(liarAsked)));
            honest.models().add(LocalModel.openServing(origin, null));
            liar.models().add(LocalModel.openServing(origin, null));
            PeerNode runtime = mesh.start();
            Mesh.dropped(runtime, liar.id()).thenRun(() -> liarDropped.complete(null));
            ModelFetcher.connectAll(runtime, List.of(honest.listenAddress(), liar.listenAddress()), Mesh.WAIT);
            MeshPeerTier tier = new MeshPeerTier(runtime, hash, ManifestCodec.read(origin), Mesh.swarm(), Mesh.WAIT);
            byte[] shard1 = Files.readAllBytes(origin.resolve("shard_00001.bin"));
            try (Arena arena = Arena.ofConfined()) {
                // chunks 7..9 of shard 1: the last one is short (100 bytes)
                MemorySegment dst = arena.allocate(2L * CHUNK + 100);
                tier.fetchChunks(1, 7, 3, dst);
                assertArrayEquals(Arrays.copyOfRange(shard1, 7 * CHUNK, shard1.length),
                        dst.toArray(ValueLayout.JAVA_BYTE));
                assertEquals(0, liarAsked.count(), "the liar was asked");
                assertTrue(runtime.bans().isBanned(liar.id()), "the lying peer is banned");
                MemorySegment wrong = arena.allocate(CHUNK - 1);
                assertThrows(IOException.class, () -> tier.fetchChunks(1, 0, 1, wrong));
                assertThrows(IOException.class, () -> tier.fetchChunks(1, 9, 2, arena.allocate(2L * CHUNK)));
            }
            int[] cover = MeshPeerTier.chunksCovering(CHUNK - 1, 2, CHUNK);
            assertArrayEquals(new int[]{0, 2}, cover);
            assertArrayEquals(new int[]{2, 1}, MeshPeerTier.chunksCovering(2L * CHUNK, CHUNK, CHUNK));
        }
    }

    @Test
    void failsCleanlyWhenNoPeerHasTheChunks(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        ModelHash hash = TestModels.write(origin, CHUNK, 32, 3 * CHUNK);
        try (Mesh mesh = new Mesh()) {
            PeerNode empty = mesh.start();
            PeerNode runtime = mesh.start();
            ModelFetcher.connectAll(runtime, List.of(empty.listenAddress()), Mesh.WAIT);
            MeshPeerTier tier = new MeshPeerTier(runtime, hash, ManifestCodec.read(origin),
                    Mesh.swarm().withStallTimeout(Duration.ofMillis(300)), Mesh.WAIT);
            try (Arena arena = Arena.ofConfined()) {
                IOException e = assertThrows(IOException.class, () -> tier.fetchChunks(0, 0, 1,
                        arena.allocate(CHUNK)));
                assertTrue(e.getMessage().contains("stalled"), e.getMessage());
            }
        }
    }
}
