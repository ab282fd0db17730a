package io.strata.loader.kv;

import io.strata.testdata.TestData;

import io.strata.storage.safetensors.CheckpointWeights;
import java.nio.file.Path;

/** The tiny-mixtral-f32 fixture as a zero-copy weight source. */
final class FixtureWeights {
    private FixtureWeights() {
    }

    static Path fixtureDir() {
        return TestData.dir("fixtures/tiny-mixtral-f32");
    }

    static CheckpointWeights open() {
        return CheckpointWeights.open(fixtureDir());
    }
}
