package io.strata.core.hash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One-shot, keyed and derive-key hashing on every path (scalar, SIMD, multi-threaded) against Bouncy Castle. */
class Blake3OracleTest {
    /** The input lengths of the official BLAKE3 test vectors (test_vectors.json). */
    static final int[] OFFICIAL_LENGTHS = {0, 1, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 4097, 5120, 5121,
            6144, 6145, 7168, 7169, 8192, 8193, 16384, 31744, 102400};

    static ParallelBlake3 scalar;
    static ParallelBlake3 simd;
    static ParallelBlake3 scalarParallel;
    static ParallelBlake3 simdParallel;

    @BeforeAll
    static void engines() {
        scalar = new ParallelBlake3(1, Compressors.scalar());
        // The raw vector compressor, not the warm-up gate: these tests must exercise SIMD code from the first call.
        ChunkCompressor vector = Compressors.vectorOrNull() != null ? Compressors.vectorOrNull() : Compressors.best();
        simd = new ParallelBlake3(1, vector);
        scalarParallel = new ParallelBlake3(3, Compressors.scalar());
        simdParallel = new ParallelBlake3(3, vector);
    }

    @AfterAll
    static void close() {
        scalarParallel.close();
        simdParallel.close();
    }

    static List<ParallelBlake3> all() {
        return List.of(scalar, simd, scalarParallel, simdParallel);
    }

    @Test
    void sharedEngineSwitchesToSimdOnceWarmedUp() throws Exception {
        // Surefire runs with --add-modules=jdk.incubator.vector; on x86-64 the preferred species has >= 8 int lanes.
        boolean vectorAvailable = Compressors.vectorOrNull() != null;
        assertEquals(vectorAvailable, simd.implementation().startsWith("vector"));
        assertEquals("scalar", scalar.implementation());
        assertEquals(vectorAvailable, Blake3.simdWarmUp().get(90, TimeUnit.SECONDS));
        assertEquals(vectorAvailable, Blake3.engine().implementation().startsWith("vector"),
                Blake3.engine().implementation());
        byte[] data = Oracle.random(3 << 20, 99);
        assertArrayEquals(Oracle.hash(data), Blake3.hash(data));
    }

    @Test
    void knownOfficialHashes() {
        // From the BLAKE3 specification's test vectors; independent of both implementations under test.
        assertEquals("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262", Blake3.hashHex(new byte[0]));
        assertEquals("2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213",
                Blake3.hashHex(Oracle.pattern(1)));
    }

    @Test
    void officialLengthsMatchBouncyCastleOnEveryPath() {
        for (int len : OFFICIAL_LENGTHS) {
            byte[] data = Oracle.pattern(len);
            byte[] expected = Oracle.hash(data);
            for (ParallelBlake3 e : all()) {
                assertArrayEquals(expected, e.hash(MemorySegment.ofArray(data)), e.implementation() + " len " + len);
            }
            assertArrayEquals(expected, Blake3.hash(data), "static API, len " + len);
        }
    }

    @Test
    void everyLengthUpTo9KiBMatchesBouncyCastle() {
        byte[] data = Oracle.random(9 * 1024 + 1, 1);
        for (int len = 0; len <= data.length; len++) {
            byte[] expected = Oracle.hash(data, 0, len);
            MemorySegment seg = MemorySegment.ofArray(data).asSlice(0, len);
            assertArrayEquals(expected, simd.hash(seg), "simd len " + len);
            assertArrayEquals(expected, scalar.hash(seg), "scalar len " + len);
        }
    }

    @Test
    void randomLengthsUpTo16MiBOffHeapSingleAndMultiThreaded() {
        Random rnd = new Random(8);
        List<Integer> lengths = new ArrayList<>(List.of(16 << 20, 16 << 20 - 1, (1 << 20) + 1));
        for (int i = 0; i < 3; i++) {
            lengths.add(1 + rnd.nextInt(16 << 20));
        }
        for (int i = 0; i < 6; i++) {
            lengths.add(1 + rnd.nextInt(1 << 20));
        }
        try (Arena arena = Arena.ofConfined()) {
            for (int len : lengths) {
                byte[] data = Oracle.random(len, len);
                MemorySegment seg = arena.allocate(len);
                MemorySegment.copy(data, 0, seg, ValueLayout.JAVA_BYTE, 0, len);
                byte[] expected = Oracle.hash(data);
                assertArrayEquals(expected, simd.hash(seg), "simd len " + len);
                assertArrayEquals(expected, simdParallel.hash(seg), "simd parallel len " + len);
                if (len <= 2 << 20) {
                    assertArrayEquals(expected, scalar.hash(seg), "scalar len " + len);
                    assertArrayEquals(expected, scalarParallel.hash(seg), "scalar parallel len " + len);
                }
            }
        }
    }

    @Test
    void unalignedSlicesOfAMappedStyleSegment() {
        byte[] data = Oracle.random(600_000, 3);
        for (int start : new int[]{1, 3, 1021, 4099}) {
            int len = data.length - start - 7;
            byte[] expected = Oracle.hash(data, start, len);
            MemorySegment seg = MemorySegment.ofArray(data).asSlice(start, len);
            assertArrayEquals(expected, simdParallel.hash(seg), "start " + start);
        }
    }

    @Test
    void keyedModeMatchesBouncyCastle() {
        byte[] key = Oracle.random(32, 42);
        for (int len : new int[]{0, 1, 64, 1024, 1025, 5121, 131073, 1 << 20, 3_000_001}) {
            byte[] data = Oracle.random(len, len + 7);
            byte[] expected = Oracle.keyed(key, data);
            for (ParallelBlake3 e : all()) {
                assertArrayEquals(expected, e.keyedHash(key, MemorySegment.ofArray(data)), e.implementation() + " " + len);
            }
            assertArrayEquals(expected, Blake3.keyedHash(key, data));
        }
    }

    @Test
    void deriveKeyModeMatchesBouncyCastle() {
        String context = "strata 2026-11 test context";
        for (int len : new int[]{0, 33, 4097, 200_000}) {
            byte[] material = Oracle.random(len, len);
            assertArrayEquals(Oracle.deriveKey(context, material), Blake3.deriveKey(context, material));
        }
    }
}
