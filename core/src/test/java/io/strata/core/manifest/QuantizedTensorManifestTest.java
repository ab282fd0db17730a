package io.strata.core.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The validator's size check asks the dtype, so block-quantised tensors are sized by whole blocks. */
class QuantizedTensorManifestTest {
    private static final String F32 = "\"size\":32,\"shape\":[8],\"dtype\":\"F32\"";

    private static Manifest read(String tensor) {
        String json = ManifestCodecTest.json();
        assertTrue(json.contains(F32), "test setup");
        return ManifestCodec.fromBytes(json.replace(F32, tensor).getBytes(StandardCharsets.UTF_8), "m.json");
    }

    @Test
    void aQ8BlockTensorIsSizedByBlocks() {
        Manifest m = read("\"size\":34,\"shape\":[32],\"dtype\":\"Q8_0\"");
        assertEquals(DType.Q8_0, m.tensor("experts.0.w1.weight").dtype());
        var e = assertThrows(ManifestException.class, () -> read("\"size\":32,\"shape\":[32],\"dtype\":\"Q8_0\""));
        assertTrue(e.getMessage().contains(".size: 32 bytes, but shape [32] of Q8_0 needs 34"), e.getMessage());
        e = assertThrows(ManifestException.class, () -> read("\"size\":34,\"shape\":[31],\"dtype\":\"Q8_0\""));
        assertTrue(e.getMessage().startsWith("m.json: ") && e.getMessage().contains(".shape: [31]")
                && e.getMessage().contains("not a whole number of 32-element blocks"), e.getMessage());
    }
}
