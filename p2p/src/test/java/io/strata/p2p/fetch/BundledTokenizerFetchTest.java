package io.strata.p2p.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.BundledFile;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.TokenizerInfo;
import io.strata.p2p.Mesh;
import io.strata.p2p.NettyLeaks;
import io.strata.p2p.TestModels;
import io.strata.p2p.node.PeerNode;
import io.strata.p2p.store.LocalModel;
import io.strata.p2p.store.ShardHasher;
import io.strata.p2p.wire.ModelHash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model's bundled tokenizer files travel with its shards: served, fetched, chunk-verified, published. */
class BundledTokenizerFetchTest {
    static {
        NettyLeaks.install();
    }

    private static final long CHUNK = 8 << 10;

    @AfterAll
    static void noLeaks() throws InterruptedException {
        NettyLeaks.assertNoStrataThreads();
        NettyLeaks.assertNoLeaks();
    }

    /** A test model plus a multi-chunk tokenizer.json and a one-chunk tokenizer_config.json in its manifest. */
    private static ModelHash writeWithTokenizer(Path dir) throws IOException {
        TestModels.write(dir, CHUNK, 21, 5 * CHUNK + 3, 2 * CHUNK);
        Random r = new Random(7);
        byte[] json = new byte[(int) (3 * CHUNK + 11)];
        r.nextBytes(json);
        Files.write(dir.resolve("tokenizer.json"), json);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        List<BundledFile> files = new ArrayList<>();
        for (String name : List.of("tokenizer.json", "tokenizer_config.json")) {
            files.add(BundledFile.of(ShardHasher.describe(0, dir.resolve(name), CHUNK)));
        }
        Manifest m = ManifestCodec.read(dir).withTokenizer(
                new TokenizerInfo(TokenizerInfo.BUNDLED, "tokenizer.json", 100, "bpe", files));
        byte[] bytes = ManifestCodec.toBytes(m);
        Files.write(dir.resolve(Manifest.FILE_NAME), bytes);
        return ModelHash.ofManifest(bytes);
    }

    private static Set<String> names(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    @Test
    void theTokenizerFilesAreFetchedWithTheShardsAndWrittenIdentical(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        ModelHash hash = writeWithTokenizer(origin);
        Path out = tmp.resolve("out");
        try (Mesh mesh = new Mesh()) {
            PeerNode seed = mesh.start();
            seed.models().add(LocalModel.openServing(origin, null));
            PeerNode fetcher = mesh.start();
            ModelFetcher.connectAll(fetcher, List.of(seed.listenAddress()), Mesh.WAIT);
            ManifestSource.Obtained m = ManifestSource.fromPeers(fetcher, hash, null, Mesh.WAIT);
            new ModelFetcher(fetcher, Mesh.swarm()).fetch(m, out, Mesh.WAIT);
        }
        assertEquals(names(origin), names(out), "shards, tokenizer files and manifest, nothing else");
        for (String f : names(origin)) {
            assertEquals(-1, Files.mismatch(origin.resolve(f), out.resolve(f)), f);
        }
    }

    @Test
    void aTamperedTokenizerChunkIsRejectedItsSenderBannedAndNothingIsWritten(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        ModelHash hash = writeWithTokenizer(origin);
        byte[] t = Files.readAllBytes(origin.resolve("tokenizer.json"));
        t[(int) CHUNK + 5] ^= 1; // same size, second chunk wrong: the seed offers it as complete
        Files.write(origin.resolve("tokenizer.json"), t);
        Path out = tmp.resolve("out");
        try (Mesh mesh = new Mesh()) {
            PeerNode bad = mesh.start();
            bad.models().add(LocalModel.openServing(origin, null));
            PeerNode fetcher = mesh.start();
            ModelFetcher.connectAll(fetcher, List.of(bad.listenAddress()), Mesh.WAIT);
            ManifestSource.Obtained m = ManifestSource.fromPeers(fetcher, hash, null, Mesh.WAIT);
            ModelFetcher f = new ModelFetcher(fetcher, Mesh.swarm().withStallTimeout(Duration.ofMillis(500)));
            IOException e = assertThrows(IOException.class, () -> f.fetch(m, out, Mesh.WAIT));
            assertTrue(e.getMessage().contains("stalled"), e.getMessage());
            assertTrue(fetcher.bans().isBanned(bad.id()), "the sender of the bad tokenizer chunk is banned");
            assertFalse(Files.exists(out), "no partial output");
        }
    }

    @Test
    void aManifestNamingAnyOtherFileAsATokenizerFileIsRefused(@TempDir Path tmp) throws Exception {
        Path origin = tmp.resolve("origin");
        writeWithTokenizer(origin);
        String json = Files.readString(origin.resolve(Manifest.FILE_NAME))
                .replace("\"tokenizer_config.json\"", "\"notes.txt\"");
        var e = assertThrows(io.strata.core.manifest.ManifestException.class,
                () -> ManifestCodec.fromBytes(json.getBytes(), "m.json"));
        assertEquals("m.json: tokenizer.files[1].filename: 'notes.txt' is not a tokenizer file name (one of "
                + "tokenizer.json, tokenizer_config.json, generation_config.json, chat_template.jinja, tokenizer.gguf)",
                e.getMessage());
    }
}
