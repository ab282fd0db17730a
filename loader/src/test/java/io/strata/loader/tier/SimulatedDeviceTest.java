package io.strata.loader.tier;

import java.util.OptionalLong;

/** {@link SimulatedDevice} keeps the {@link TierMemory} contract. */
class SimulatedDeviceTest extends TierMemoryContractTest {
    @Override
    TierMemory create() {
        return new SimulatedDevice(CAPACITY);
    }

    @Override
    OptionalLong fixedCapacity() {
        return OptionalLong.of(CAPACITY);
    }
}
