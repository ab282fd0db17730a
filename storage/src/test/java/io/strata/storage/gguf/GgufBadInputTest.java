package io.strata.storage.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.core.model.DType;
import io.strata.storage.safetensors.CheckpointException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each case damages one thing in a valid GGUF file (written by {@link GgufWriter}, or a real llama.cpp file)
 * and expects a one-line error that starts with the file and names the tensor or key.
 */
class GgufBadInputTest {
    @TempDir
    Path tmp;
    private byte[] good;

    @BeforeEach
    void writeGoodFile() throws IOException {
        Path f = tmp.resolve("good.gguf");
        try (Arena arena = Arena.ofConfined()) {
            new GgufWriter()
                    .putString("general.architecture", "llama")
                    .put("tokens", GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING, List.of("x", "y")))
                    .tensor("first", DType.Q8_0, new long[]{2, 32}, GgufWriterTest.random(arena, 68, 1))
                    .tensor("second", DType.F32, new long[]{4}, GgufWriterTest.random(arena, 16, 2))
                    .write(f);
        }
        good = Files.readAllBytes(f);
        GgufFile.open(f).close();
    }

    private String fail(byte[] bytes) throws IOException {
        Path f = tmp.resolve("bad.gguf");
        Files.write(f, bytes);
        var e = assertThrows(CheckpointException.class, () -> GgufFile.open(f));
        String m = e.getMessage();
        assertTrue(m.startsWith(f + ": "), "names the file: " + m);
        assertFalse(m.contains("\n"), "one line: " + m);
        return m;
    }

    private static void expect(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
        }
    }

    /** Offset of a tensor info's n_dims field (right after its name). */
    private int info(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < good.length - n.length - 8; i++) {
            if (le(good, i).getLong() == n.length
                    && Arrays.equals(good, i + 8, i + 8 + n.length, n, 0, n.length)) {
                return i + 8 + n.length;
            }
        }
        throw new AssertionError(name + " not found");
    }

    private static ByteBuffer le(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).position(at);
    }

    private byte[] patchU32(int at, int v) {
        byte[] b = good.clone();
        le(b, at).putInt(v);
        return b;
    }

    private byte[] patchU64(int at, long v) {
        byte[] b = good.clone();
        le(b, at).putLong(v);
        return b;
    }

    @Test
    void wrongMagicAndVersion() throws IOException {
        byte[] b = good.clone();
        b[0] = 'P';
        b[1] = 'K';
        expect(fail(b), "not a GGUF file", "magic is 0x504b5546", "expected 'GGUF'");
        expect(fail(patchU32(4, 1)), "GGUF version 1 is not supported (2 and 3 are)");
        expect(fail(patchU32(4, Integer.reverseBytes(3))), "big-endian GGUF (version 3) is not supported");
        expect(fail(Arrays.copyOf(good, 10)), "truncated: 10 bytes");
    }

    @Test
    void absurdCounts() throws IOException {
        expect(fail(patchU64(8, 1L << 40)), "tensor count 1099511627776 is absurd");
        expect(fail(patchU64(8, -1L)), "tensor count 18446744073709551615 is absurd");
        expect(fail(patchU64(16, 1L << 40)), "metadata count 1099511627776 is absurd");
        // the first key's string length
        expect(fail(patchU64(24, 1L << 50)), "metadata key #0: string length 1125899906842624 is absurd");
        int tokens = indexOf("tokens") + 6; // type u32, element type u32, count u64
        expect(fail(patchU64(tokens + 8, 1L << 40)), "metadata 'tokens' element count 1099511627776 is absurd");
        expect(fail(patchU32(tokens + 4, 77)), "metadata 'tokens': unknown value type 77");
        expect(fail(patchU32(info("first"), 9)), "tensor 'first': 9 dimensions (1..4 allowed)");
        expect(fail(patchU64(info("first") + 4, -5L)), "tensor 'first': dimension 0 is 18446744073709551611, absurd");
    }

    @Test
    void truncatedFiles() throws IOException {
        expect(fail(Arrays.copyOf(good, good.length - 1)), "tensor 'second'", "run past the end of the file",
                "truncated?");
        int cut = info("second") + 2;
        expect(fail(Arrays.copyOf(good, cut)), "truncated: tensor 'second' dimension count needs 4 bytes");
    }

    @Test
    void tensorPastTheEnd() throws IOException {
        int offset = info("first") + 4 + 2 * 8 + 4;
        expect(fail(patchU64(offset, 1L << 20)), "tensor 'first': 68 bytes at data offset 1048576",
                "run past the end of the file");
    }

    @Test
    void unknownAndUnsupportedTypes() throws IOException {
        int type = info("second") + 4 + 8;
        expect(fail(patchU32(type, 16)), "tensor 'second': ggml type id 16 (IQ2_XXS) is not supported",
                "supported: F32, F16, BF16");
        expect(fail(patchU32(type, 99)), "tensor 'second': ggml type id 99 (unknown to ggml) is not supported");
    }

    @Test
    void rowsThatCutBlocks() throws IOException {
        // "first" is Q8_0 [2, 32]: ggml ne[0] = 32 is its row; 33 is not a whole number of 32-element blocks
        expect(fail(patchU64(info("first") + 4, 33)), "tensor 'first': row length 33 of shape [2, 33]",
                "whole number of 32-element Q8_0 blocks");
    }

    @Test
    void overlappingTensorsAndBadOffsets() throws IOException {
        int secondOffset = info("second") + 4 + 8 + 4;
        expect(fail(patchU64(secondOffset, 32)), "tensors 'first' and 'second' overlap");
        expect(fail(patchU64(secondOffset, 100)), "tensor 'second': data offset 100 is not a multiple of the alignment 32");
    }

    @Test
    void badAlignment() throws IOException {
        Path f = tmp.resolve("a.gguf");
        new GgufWriter().put(GgufParser.ALIGNMENT_KEY, GgufValueType.UINT32, 24).write(f);
        expect(fail(Files.readAllBytes(f)), "metadata 'general.alignment' is 24, expected a power of two");
        new GgufWriter().put(GgufParser.ALIGNMENT_KEY, GgufValueType.UINT64, 32).write(f);
        expect(fail(Files.readAllBytes(f)), "metadata 'general.alignment' is UINT64, expected UINT32");
    }

    @Test
    void duplicatesAndBadValues() throws IOException {
        Path f = tmp.resolve("d.gguf");
        try (Arena arena = Arena.ofConfined()) {
            new GgufWriter().putUint32("k1", 1).putUint32("k2", 2)
                    .tensor("aa", DType.F32, new long[]{1}, arena.allocate(4))
                    .tensor("bb", DType.F32, new long[]{1}, arena.allocate(4)).write(f);
        }
        good = Files.readAllBytes(f);
        byte[] key = good.clone();
        key[indexOf("k2") + 1] = '1';
        expect(fail(key), "metadata 'k1' appears twice");
        byte[] name = good.clone();
        name[indexOf("bb")] = 'a';
        name[indexOf("bb") + 1] = 'a';
        expect(fail(name), "tensor 'aa' appears twice");
        byte[] empty = patchU64(indexOf("aa") - 8, 0);
        expect(fail(empty), "tensor info #0 has an empty name");

        new GgufWriter().put("flag", GgufValueType.BOOL, true).write(f);
        byte[] bool = Files.readAllBytes(f);
        bool[24 + 8 + 4 + 4] = 2;
        expect(fail(bool), "metadata 'flag': BOOL value 2 is neither 0 nor 1");
        byte[] badUtf8 = bool.clone();
        badUtf8[24 + 8] = (byte) 0xff;
        expect(fail(badUtf8), "metadata key #0 is not valid UTF-8");
    }

    @Test
    void damagedRealLlamaCppFile() throws IOException {
        good = Files.readAllBytes(GgufFixtureTest.fixture("q4_0"));
        int type = info("blk.0.ffn_up_exps.weight") + 4 + 3 * 8;
        expect(fail(patchU32(type, 20)), "tensor 'blk.0.ffn_up_exps.weight': ggml type id 20 (IQ4_NL) is not supported");
        expect(fail(Arrays.copyOf(good, good.length - 4096)), "tensor 'blk.1.ffn_up_exps.weight'",
                "run past the end of the file");
        int off = info("blk.1.attn_q.weight") + 4 + 2 * 8 + 4;
        expect(fail(patchU64(off, le(good, info("blk.1.attn_output.weight") + 4 + 2 * 8 + 4).getLong())),
                "tensors 'blk.1.attn_output.weight' and 'blk.1.attn_q.weight' overlap");
    }

    private int indexOf(String s) {
        byte[] n = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < good.length - n.length; i++) {
            if (Arrays.equals(good, i, i + n.length, n, 0, n.length)) {
                return i;
            }
        }
        throw new AssertionError(s);
    }
}
