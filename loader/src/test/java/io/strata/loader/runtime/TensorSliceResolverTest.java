package io.strata.loader.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.manifest.ManifestException;
import io.strata.core.model.Layout;
import io.strata.core.weights.TensorView;
import io.strata.storage.model.ConvertedModel;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One TP-slice resolver: the runtime and the converted model give the same bytes and shape for a rank, in both
 * cases, a tensor the converter cut into slices and a tensor it kept whole (replicated).
 */
class TensorSliceResolverTest {
    static final String SLICED = "model.layers.0.self_attn.q_proj.weight";
    static final String REPLICATED = "model.embed_tokens.weight";
    static final String NORM = "model.layers.0.input_layernorm.weight";

    @TempDir
    Path tmp;

    private static RuntimeOptions options() {
        return RuntimeOptions.builder().noDiskCache().hostBudget(64 << 20).prefetch(false).build();
    }

    @Test
    void aSlicedTensorGivesTheSameSliceFromTheRuntimeAndTheModel() throws Exception {
        for (Layout layout : Layout.values()) {
            TestModels.Model m = TestModels.mixtral(tmp.resolve(layout.name()), 1, 2, 64, 96, layout, 2);
            try (ConvertedModel cm = ConvertedModel.open(m.converted());
                 ModelRuntime rt = ModelRuntime.open(cm, null, options())) {
                for (int rank = 0; rank < 2; rank++) {
                    TensorView v = rt.tensorSlice(SLICED, rank, 2);
                    assertArrayEquals(cm.tensorSlice(SLICED, rank).toArray(ValueLayout.JAVA_BYTE),
                            v.data().toArray(ValueLayout.JAVA_BYTE), layout + " rank " + rank);
                    assertArrayEquals(new long[]{32, 64}, v.shape(), "logical [out/2, in]");
                }
                ManifestException e = assertThrows(ManifestException.class, () -> rt.tensorSlice(SLICED, 0, 4));
                assertTrue(e.getMessage().contains("converted for TP 2, not 4"), e.getMessage());
                assertTrue(assertThrows(ManifestException.class, () -> cm.tensorSlice(SLICED, 2)).getMessage()
                        .contains("no slice 2"));
            }
        }
    }

    @Test
    void aReplicatedTensorIsTheWholeTensorOnEveryRankFromBoth() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 1, 2, 64, 96, Layout.COLUMN, 2);
        try (ConvertedModel cm = ConvertedModel.open(m.converted());
             ModelRuntime rt = ModelRuntime.open(cm, null, options())) {
            for (String name : new String[]{REPLICATED, NORM}) {
                byte[] whole = cm.tensor(name).toArray(ValueLayout.JAVA_BYTE);
                for (int rank = 0; rank < 2; rank++) {
                    TensorView v = rt.tensorSlice(name, rank, 2);
                    assertArrayEquals(whole, v.data().toArray(ValueLayout.JAVA_BYTE), name + " rank " + rank);
                    assertArrayEquals(whole, cm.tensorSlice(name, rank).toArray(ValueLayout.JAVA_BYTE));
                    assertEquals(cm.manifest().tensor(name).logicalShape().getFirst(), v.shape()[0],
                            name + ": not cut");
                }
            }
        }
    }

    @Test
    void aModelConvertedWithoutTpCutsParallelWeightsButNotReplicatedOnes() throws Exception {
        TestModels.Model m = TestModels.mixtral(tmp, 1, 2, 64, 96, Layout.ROW, 1);
        try (ConvertedModel cm = ConvertedModel.open(m.converted());
             ModelRuntime rt = ModelRuntime.open(cm, null, options())) {
            assertArrayEquals(new long[]{16, 64}, rt.tensorSlice(SLICED, 3, 4).shape(), "rows cut at run time");
            assertEquals(cm.tensor(NORM).byteSize(), rt.tensorSlice(NORM, 3, 4).data().byteSize(), "norm whole");
        }
    }
}
