package io.strata.loader.tier;

import java.util.OptionalLong;

/** {@link HostMemory} keeps the {@link TierMemory} contract. */
class HostMemoryTest extends TierMemoryContractTest {
    @Override
    TierMemory create() {
        return new HostMemory();
    }

    @Override
    OptionalLong fixedCapacity() {
        return OptionalLong.empty();
    }
}
