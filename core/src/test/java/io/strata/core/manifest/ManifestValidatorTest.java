package io.strata.core.manifest;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Each case edits one thing in a valid manifest and expects a rejection naming the field. */
class ManifestValidatorTest {
    static final String H = ManifestCodecTest.H;

    private static void rejects(String from, String to, String expectInMessage) {
        String good = ManifestCodecTest.json();
        assertTrue(good.contains(from), "test setup: '" + from + "' not in the manifest");
        String bad = good.replace(from, to);
        var e = assertThrows(ManifestException.class,
                () -> ManifestCodec.fromBytes(bad.getBytes(StandardCharsets.UTF_8), "m.json"));
        assertTrue(e.getMessage().startsWith("m.json: ") && e.getMessage().contains(expectInMessage),
                "expected '" + expectInMessage + "' in: " + e.getMessage());
    }

    @Test
    void theBaseManifestIsValid() {
        ManifestCodec.fromBytes(ManifestCodecTest.json().getBytes(StandardCharsets.UTF_8), "m.json");
    }

    @Test
    void versionAndHashAlgorithm() {
        rejects("\"version\":1", "\"version\":2", "version: 2 is not supported");
        rejects("\"hashAlgorithm\":\"blake3\"", "\"hashAlgorithm\":\"sha256\"", "hashAlgorithm");
        rejects("\"chunkSize\":64", "\"chunkSize\":0", "chunkSize");
    }

    @Test
    void shards() {
        rejects("\"index\":0,\"filename\":\"shard_00000.bin\"", "\"index\":1,\"filename\":\"shard_00000.bin\"",
                "shards[0].index");
        rejects("\"filename\":\"shard_00000.bin\"", "\"filename\":\"../etc/passwd\"", "not a plain file name");
        rejects("\"chunks\":[\"" + H + "\",\"" + H + "\"]", "\"chunks\":[\"" + H + "\"]", "expected 2");
        rejects("\"hash\":\"" + H + "\",\"chunks\"", "\"hash\":\"XYZ\",\"chunks\"", "shards[0].hash");
    }

    @Test
    void tensors() {
        rejects("\"offset\":64,\"size\":32,\"shape\":[8]", "\"offset\":112,\"size\":32,\"shape\":[8]",
                "lie outside shard 0");
        rejects("\"offset\":16,\"size\":16", "\"offset\":8,\"size\":16", "overlap");
        rejects("\"size\":32,\"shape\":[8]", "\"size\":32,\"shape\":[9]", "needs 36");
        rejects("\"dtype\":\"F32\",\"role\":\"expert\"", "\"dtype\":\"Q9\",\"role\":\"expert\"", "");
        rejects("\"sliceIdx\":1,\"sliceCount\":2", "\"sliceIdx\":0,\"sliceCount\":2", "sliceIdx: expected 1");
        rejects("\"sliceIdx\":1,\"sliceCount\":2", "\"sliceIdx\":1,\"sliceCount\":3", "sliceCount: 3");
        rejects("\"sliceDim\":1,\"sliceIdx\":1", "\"sliceDim\":5,\"sliceIdx\":1", "sliceDim");
        rejects("\"shard\":0,\"offset\":64", "\"shard\":4,\"offset\":64", "is not a shard index");
    }

    @Test
    void groups() {
        rejects("\"shards\":[0],\"offset\":64", "\"shards\":[0,0],\"offset\":64", "exactly one shard");
        rejects("\"size\":64,\"tensors\":[\"experts.0.w1.weight\"]",
                "\"size\":16,\"tensors\":[\"experts.0.w1.weight\"]", "not inside the group's range");
        rejects("\"tensors\":[\"experts.0.w1.weight\"]", "\"tensors\":[\"ghost\"]", "'ghost' is not in tensors");
        rejects("\"expertIndex\":0,\"shards\"", "\"expertIndex\":3,\"shards\"", "expertIndex: 3 >= numExperts 1");
        rejects("\"type\":\"expert\",\"layerIndex\":0,", "\"type\":\"expert\",", "needs layerIndex");
    }
}
