package io.strata.bench;

import io.strata.core.hash.Blake3;
import io.strata.core.hash.ParallelBlake3;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.bouncycastle.crypto.digests.Blake3Digest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * BLAKE3 throughput: Strata's hasher on one thread and on all cores, against Bouncy Castle's {@code Blake3Digest},
 * the JDK's SHA-256 and a plain vectorised read of the same bytes (the memory-bandwidth ceiling). The same random
 * bytes live off-heap (what Strata hashes: mapped files) and in a heap array (what the byte[] APIs of Bouncy Castle
 * and MessageDigest take). Scores are operations per second; one operation covers {@code size} bytes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Blake3Bench {
    private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_PREFERRED;

    @Param({"1048576", "268435456"})
    public int size;

    /** Threads for {@link #strataAllCores}; 0 = available processors. */
    @Param({"0"})
    public int threads;

    private Arena arena;
    private MemorySegment offHeap;
    private byte[] heap;
    private ParallelBlake3 oneThread;
    private ParallelBlake3 allCores;

    @Setup(Level.Trial)
    public void setUp() {
        long t0 = System.nanoTime();
        Blake3.simdWarmUp(); // starts the JIT warm-up while the input is generated
        arena = Arena.ofShared();
        offHeap = arena.allocate(size, 64);
        heap = new byte[size];
        SplittableRandom rnd = new SplittableRandom(size);
        for (long i = 0; i < size; i += 8) {
            offHeap.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
        }
        MemorySegment.copy(offHeap, ValueLayout.JAVA_BYTE, 0, heap, 0, size);
        // Hashing runs scalar code until the SIMD path is JIT-compiled; measure the steady state.
        try {
            boolean simd = Blake3.simdWarmUp().get(6, TimeUnit.MINUTES);
            System.err.printf("BLAKE3 warm-up %.1f s: %s%n", (System.nanoTime() - t0) / 1e9,
                    simd ? Blake3.engine().implementation() : "SIMD unavailable, measuring "
                            + Blake3.engine().implementation());
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("BLAKE3 SIMD warm-up failed", e);
        }
        oneThread = new ParallelBlake3(1);
        allCores = new ParallelBlake3(threads > 0 ? threads : Runtime.getRuntime().availableProcessors());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        allCores.close();
        arena.close();
    }

    @Benchmark
    public byte[] strataOneThread() {
        return oneThread.hash(offHeap);
    }

    @Benchmark
    public byte[] strataAllCores() {
        return allCores.hash(offHeap);
    }

    @Benchmark
    public byte[] bouncyCastle() {
        Blake3Digest d = new Blake3Digest(256);
        d.update(heap, 0, heap.length);
        byte[] out = new byte[32];
        d.doFinal(out, 0);
        return out;
    }

    @Benchmark
    public byte[] jdkSha256() throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256").digest(heap);
    }

    /** Sums every byte as longs with full-width vectors: touches the memory, does no hashing. */
    @Benchmark
    public long plainRead() {
        LongVector acc = LongVector.zero(LONGS);
        long step = LONGS.vectorByteSize();
        long end = offHeap.byteSize() - offHeap.byteSize() % step;
        for (long off = 0; off < end; off += step) {
            acc = acc.add(LongVector.fromMemorySegment(LONGS, offHeap, off, ByteOrder.nativeOrder()));
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
