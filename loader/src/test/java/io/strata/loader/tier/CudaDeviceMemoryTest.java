package io.strata.loader.tier;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.strata.nativeaccess.cuda.CudaDevice;
import io.strata.nativeaccess.cuda.CudaDriver;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeAll;

/** {@link CudaDeviceMemory} keeps the {@link TierMemory} contract (skipped, with the reason, without a GPU). */
class CudaDeviceMemoryTest extends TierMemoryContractTest {
    @BeforeAll
    static void needsGpu() {
        assumeTrue(CudaDriver.load().isPresent(), () -> "no CUDA: " + CudaDriver.availability().reason());
    }

    @Override
    TierMemory create() {
        return new CudaDeviceMemory(CudaDevice.open(CudaDriver.load().orElseThrow(), 0), CAPACITY, true);
    }

    @Override
    OptionalLong fixedCapacity() {
        return OptionalLong.of(CAPACITY);
    }
}
