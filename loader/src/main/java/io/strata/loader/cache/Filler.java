package io.strata.loader.cache;

import io.strata.core.model.ExpertId;
import java.io.IOException;
import java.lang.foreign.MemorySegment;

/** Fills a new copy of an expert from the tier below. */
@FunctionalInterface
public interface Filler {
    /** Writes the expert's group bytes into {@code dst} (exactly its size) and returns the tier they came from. */
    io.strata.core.model.Tier fill(ExpertId id, MemorySegment dst) throws IOException;
}
