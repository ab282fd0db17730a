package io.strata.core.manifest;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Manifests written to crash or exhaust the reader (issue 11, "inputs that crash or hang"): each is refused by
 * the validator with a message naming the field, before anything sizes an array by it.
 */
class HostileManifestTest {
    private static String rejects(String from, String to) {
        return rejectsWith(from, to);
    }

    @Test
    void numExpertsOfIntMaxIsRefusedByWhatTheShardsHold() {
        String m = rejects("\"numExperts\":1", "\"numExperts\":2147483647");
        assertTrue(m.contains("moeConfig.numExperts") && m.contains("2147483647") && m.contains("128 shard bytes"), m);
        String neg = rejects("\"numExperts\":1", "\"numExperts\":-1");
        assertTrue(neg.contains("numExperts -1"), neg);
    }

    @Test
    void topKAndMoeLayersBeyondTheExpertsAreRefused() {
        String k = rejects("\"numExpertsPerToken\":1", "\"numExpertsPerToken\":2147483647");
        assertTrue(k.contains("moeConfig.numExpertsPerToken"), k);
        String l = rejects("\"numMoeLayers\":1", "\"numMoeLayers\":2147483647");
        assertTrue(l.contains("moeConfig.numMoeLayers"), l);
    }

    @Test
    void fractionalDataOffsetsAndShapesAreRejectedNotTruncated() {
        String off = rejects("\"offset\":64,\"size\":32,\"shape\":[8]", "\"offset\":64.5,\"size\":32,\"shape\":[8]");
        assertTrue(off.contains("tensors") && off.contains("offset") && off.contains("64.5"), off);
        String shape = rejects("\"size\":32,\"shape\":[8]", "\"size\":32,\"shape\":[8.5]");
        assertTrue(shape.contains("shape") && shape.contains("8.5"), shape);
        String size = rejects("\"filename\":\"shard_00000.bin\",\"size\":128", "\"filename\":\"shard_00000.bin\",\"size\":128.25");
        assertTrue(size.contains("shards[0].size"), size);
    }

    @Test
    void nulInAShardFilenameNamesTheField() {
        String m = rejects("\"filename\":\"shard_00000.bin\"", "\"filename\":\"shard\\u0000.bin\"");
        assertTrue(m.contains("shards[0].filename") && m.contains("control character"), m);
    }

    @Test
    void shardSizeOf2To32InOneByteChunksNamesTheOverflowingField() {
        // 2^32 one-byte chunks: the int chunk count wrapped to 0, so an empty chunk list used to pass
        String m = rejectsWith("\"chunkSize\":64", "\"chunkSize\":1",
                "\"size\":128,\"hash\"", "\"size\":4294967296,\"hash\"",
                "\"chunks\":[\"" + ManifestCodecTest.H + "\",\"" + ManifestCodecTest.H + "\"]", "\"chunks\":[]");
        assertTrue(m.contains("shards[0].size") && m.contains("4294967296") && m.contains("chunks"), m);
    }

    private static String rejectsWith(String... fromTo) {
        String s = ManifestCodecTest.json();
        for (int i = 0; i < fromTo.length; i += 2) {
            assertTrue(s.contains(fromTo[i]), "test setup: '" + fromTo[i] + "' not in the manifest");
            s = s.replace(fromTo[i], fromTo[i + 1]);
        }
        byte[] bad = s.getBytes(StandardCharsets.UTF_8);
        return assertThrows(ManifestException.class, () -> ManifestCodec.fromBytes(bad, "m.json")).getMessage();
    }
}
