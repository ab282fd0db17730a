package io.strata.core.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.core.model.DType;
import io.strata.core.model.ExpertId;
import io.strata.core.model.Layout;
import io.strata.core.model.Role;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestCodecTest {
    @TempDir
    Path tmp;

    static final String H = "a".repeat(64);

    /** A manifest with a sliced tensor (array form), an unsliced one (object form) and an expert group. */
    static String json() {
        return """
                {"version":1,"modelId":"m","modelType":"transformer","architecture":"MixtralForCausalLM",
                 "config":{"model_type":"mixtral","hidden_size":4,"nested":{"a":[1,2]}},
                 "quantization":"F32","hashAlgorithm":"blake3","chunkSize":64,"defaultWeightLayout":"column",
                 "totalSize":128,"moeConfig":{"numExperts":1,"numExpertsPerToken":1,"expertFormat":"mixtral",
                 "expertBytes":64,"numMoeLayers":1,"futureField":3},
                 "shards":[{"index":0,"filename":"shard_00000.bin","size":128,"hash":"%s","chunks":["%s","%s"]}],
                 "tensors":{
                   "q.weight":[
                     {"shard":0,"offset":0,"size":16,"shape":[2,2],"dtype":"F32","role":"matmul","layout":"column",
                      "originalShape":[4,2],"sliceDim":1,"sliceIdx":0,"sliceCount":2},
                     {"shard":0,"offset":16,"size":16,"shape":[2,2],"dtype":"F32","role":"matmul","layout":"column",
                      "originalShape":[4,2],"sliceDim":1,"sliceIdx":1,"sliceCount":2}],
                   "experts.0.w1.weight":{"shard":0,"offset":64,"size":32,"shape":[8],"dtype":"F32","role":"expert",
                      "group":"expert.0.0","unknownField":true}},
                 "groups":{"expert.0.0":{"type":"expert","layerIndex":0,"expertIndex":0,"shards":[0],"offset":64,
                   "size":64,"tensors":["experts.0.w1.weight"],"hash":"%s"}}}
                """.formatted(H, H, H, H);
    }

    @Test
    void readsBothTensorFormsAndRoundTripsExactly() {
        Manifest m = ManifestCodec.fromBytes(json().getBytes(StandardCharsets.UTF_8), "test");
        List<TensorInfo> q = m.tensors().get("q.weight");
        assertEquals(2, q.size());
        assertEquals(1, q.get(1).sliceIdx());
        assertEquals(List.of(4L, 2L), q.get(1).logicalShape());
        assertEquals(Layout.COLUMN, q.get(0).layout());
        assertEquals(Role.EXPERT, m.tensor("experts.0.w1.weight").role());
        assertEquals(DType.F32, m.tensor("experts.0.w1.weight").dtype());
        assertEquals(64, m.expertGroup(new ExpertId(0, 0)).orElseThrow().offset());
        assertEquals(2, m.config().path("nested").path("a").get(1).asInt(), "config kept verbatim");
        byte[] once = ManifestCodec.toBytes(m);
        Manifest again = ManifestCodec.fromBytes(once, "again");
        assertEquals(m, again);
        assertEquals(new String(once, StandardCharsets.UTF_8), new String(ManifestCodec.toBytes(again),
                StandardCharsets.UTF_8), "serialisation is stable");
        String s = new String(once, StandardCharsets.UTF_8);
        assertTrue(s.contains("\"q.weight\" : [ {"), "sliced tensors are written as arrays: " + s);
        assertTrue(s.contains("\"experts.0.w1.weight\" : {"), "unsliced as objects");
        assertTrue(s.indexOf("\"version\"") < s.indexOf("\"shards\""), "fixed field order");
        assertTrue(!s.contains("\r"));
    }

    @Test
    void acceptsDopplerSpans() {
        String doppler = """
                {"version":1,"modelId":"d","chunkSize":64,"hashAlgorithm":"blake3",
                 "shards":[{"index":0,"filename":"a.bin","size":64,"hash":"%s","chunks":["%s"]},
                           {"index":1,"filename":"b.bin","size":64,"hash":"%s","chunks":["%s"]}],
                 "tensors":{"big":{"shape":[24],"dtype":"F32","role":"embedding","size":96,
                   "spans":[{"shardIndex":0,"offset":0,"size":64},{"shardIndex":1,"offset":0,"size":32}]}}}
                """.formatted(H, H, H, H);
        Manifest m = ManifestCodec.fromBytes(doppler.getBytes(StandardCharsets.UTF_8), "doppler");
        TensorInfo t = m.tensor("big");
        assertEquals(2, t.spans().size());
        assertEquals(1, t.spans().get(1).shardIndex());
        assertNull(m.moeConfig());
    }

    @Test
    void readFromDirectoryAndMissingFile() throws Exception {
        Files.writeString(tmp.resolve("manifest.json"), json());
        assertEquals("m", ManifestCodec.read(tmp).modelId());
        var e = assertThrows(ManifestException.class, () -> ManifestCodec.read(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void notJsonIsNamed() {
        var e = assertThrows(ManifestException.class,
                () -> ManifestCodec.fromBytes("{\"version\":".getBytes(StandardCharsets.UTF_8), "bad.json"));
        assertTrue(e.getMessage().startsWith("bad.json: not a valid manifest"), e.getMessage());
        JsonNode n = ManifestCodec.mapper().createObjectNode();
        assertTrue(n.isEmpty());
    }
}
