package io.strata.tools.commands;

import static io.strata.tools.commands.Cli.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.hash.Blake3;
import io.strata.core.manifest.GroupInfo;
import io.strata.core.manifest.Manifest;
import io.strata.core.manifest.ManifestCodec;
import io.strata.core.manifest.ShardInfo;
import io.strata.core.manifest.TokenizerInfo;
import io.strata.storage.gguf.GgufArray;
import io.strata.storage.gguf.GgufFile;
import io.strata.storage.gguf.GgufMetadata;
import io.strata.storage.gguf.GgufTensor;
import io.strata.storage.gguf.GgufValueType;
import io.strata.storage.gguf.GgufWriter;
import io.strata.testdata.TestData;
import io.strata.text.Tokenizer;
import io.strata.tools.commands.Cli.Run;
import io.strata.tools.generate.TokenizerSource;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * {@code strata shard-convert model.gguf OUT} through the real command line on llama.cpp's own files
 * (testdata fixtures/gguf/mixtral-tiny), then the commands that take a converted model, unchanged: verify (and
 * its naming of a damaged shard and chunk), inspect, plan, peer + fetch, and run with a text prompt tokenised by
 * the GGUF's embedded vocabulary. Damaged GGUF inputs fail with one line naming the file and the tensor, exit 1,
 * and leave nothing at OUT.
 */
class GgufConvertCliTest {
    @TempDir
    Path tmp;

    static Path fixture(String quant) {
        return TestData.dir("fixtures/gguf/mixtral-tiny").resolve("mixtral-tiny-" + quant + ".gguf");
    }

    @ParameterizedTest
    @ValueSource(strings = {"q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0"})
    void convertVerifyInspectPlanAndADamagedChunkIsNamed(String quant) throws Exception {
        Path out = tmp.resolve("m");
        Run c = run("shard-convert", fixture(quant).toString(), out.toString(), "--chunk-size", "16KiB");
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("16 expert groups"), c.out());
        Manifest m = ManifestCodec.read(out);
        String hash = Blake3.hashHex(Files.readAllBytes(out.resolve("manifest.json")));

        Run v = run("verify", out.toString());
        assertEquals(0, v.code(), v.out() + v.err());
        assertTrue(v.out().startsWith("OK: " + m.shards().size() + " shards"), v.out());

        Run i = run("inspect", out.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("MixtralForCausalLM") && i.out().contains(hash), i.out());
        assertTrue(i.out().contains("8 experts per layer, top-2, 2 MoE layers"), i.out());
        assertTrue(i.out().contains("model.layers.1.block_sparse_moe.experts.7.w2.weight"), i.out());
        try (GgufFile g = GgufFile.open(fixture(quant))) {
            String expertType = g.tensor("blk.0.ffn_down_exps.weight").dtype().name();
            assertTrue(i.out().contains(expertType), "inspect shows the ggml type " + expertType + ": " + i.out());
        }

        Run p = run("plan", out.toString(), "--json", "--host-mem", "8GiB");
        assertEquals(0, p.code(), p.err());
        JsonNode plan = new ObjectMapper().readTree(p.out());
        assertTrue(plan.isObject() && !plan.isEmpty(), p.out());
        // experts planned at the bytes their blocks take (not 2 per weight), in place and converted alike
        long stored = m.tensors().values().stream().flatMap(java.util.List::stream).filter(t -> t.group() != null)
                .mapToLong(io.strata.core.manifest.TensorInfo::size).sum();
        long planned = plan.get("expertBytes").asLong();
        assertTrue(Math.abs(planned - stored) <= 16, quant + ": planned " + planned + " vs stored " + stored);
        Run pg = run("plan", fixture(quant).toString(), "--json", "--host-mem", "8GiB");
        assertEquals(0, pg.code(), pg.err());
        assertEquals(planned, new ObjectMapper().readTree(pg.out()).get("expertBytes").asLong(), pg.out());

        // flip one byte inside expert (1, 6): verify names its shard and chunk
        GroupInfo g = m.groups().get("expert.1.6");
        ShardInfo shard = m.shards().get(g.shards().getFirst());
        long pos = g.offset() + g.size() / 2;
        try (RandomAccessFile f = new RandomAccessFile(out.resolve(shard.filename()).toFile(), "rw")) {
            f.seek(pos);
            int b = f.read();
            f.seek(pos);
            f.write(b ^ 0x01);
        }
        long chunk = pos / (16 << 10);
        Run bad = run("verify", out.toString());
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.err().contains("shard " + shard.index() + " (" + shard.filename() + ") chunk " + chunk + " ")
                && bad.err().contains("chunk hash mismatch"), bad.err());
    }

    /** The fixture's tensors and config, with a small byte-level BPE vocabulary of the model's 512 tokens. */
    private Path withVocabulary() throws Exception {
        Path f = tmp.resolve("vocab.gguf");
        GgufWriter w = new GgufWriter();
        try (GgufFile g = GgufFile.open(fixture("q8_0"))) {
            for (Map.Entry<String, GgufMetadata.Entry> e : g.metadata().entries().entrySet()) {
                if (!e.getKey().startsWith("tokenizer.") && !e.getKey().equals("general.alignment")) {
                    w.put(e.getKey(), e.getValue().type(), e.getValue().value());
                }
            }
            List<Object> tokens = new ArrayList<>(List.of("a", "b", "ab", "Ġ", "Ġab", "<|end|>"));
            List<Object> types = new ArrayList<>(List.of(1, 1, 1, 1, 1, 3));
            while (tokens.size() < 512) {
                tokens.add("t" + tokens.size());
                types.add(1);
            }
            w.putString("tokenizer.ggml.model", "gpt2")
                    .put("tokenizer.ggml.tokens", GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING, tokens))
                    .put("tokenizer.ggml.token_type", GgufValueType.ARRAY, new GgufArray(GgufValueType.INT32, types))
                    .put("tokenizer.ggml.merges", GgufValueType.ARRAY,
                            new GgufArray(GgufValueType.STRING, List.of("a b", "Ġ ab")))
                    .putUint32("tokenizer.ggml.eos_token_id", 5);
            for (GgufTensor t : g.tensors()) {
                if (t.name().equals("token_embd.weight")) {
                    // this branch's embedding lookup reads float tables only: the table as F32, the rest as llama.cpp wrote it
                    int n = (int) t.elementCount();
                    float[] v = new float[n];
                    io.strata.kernels.quant.Dequantize.row(t.dtype(), t.data(), 0, v, 0, n);
                    ByteBuffer bytes = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
                    bytes.asFloatBuffer().put(v);
                    w.tensor(t.name(), io.strata.core.model.DType.F32, t.shape(),
                            java.lang.foreign.MemorySegment.ofArray(bytes.array()));
                } else {
                    w.tensor(t.name(), t.dtype(), t.shape(), t.data());
                }
            }
            w.write(f);
        }
        return f;
    }

    @Test
    void theEmbeddedVocabularyTravelsWithTheModel() throws Exception {
        Path gguf = withVocabulary();
        Path out = tmp.resolve("m");
        Run c = run("shard-convert", gguf.toString(), out.toString(), "-q");
        assertEquals(0, c.code(), c.err());
        Manifest m = ManifestCodec.read(out);
        assertEquals(TokenizerInfo.GGUF_FILE, m.tokenizer().file());
        assertEquals(512, m.tokenizer().vocabSize());
        assertEquals("gpt2", m.tokenizer().tokenizerType());

        Tokenizer fromFile = TokenizerSource.forModel(gguf, true).open();
        Tokenizer bundled = TokenizerSource.forModel(out, true).open();
        int[] ids = fromFile.encode("ab ab<|end|>", true);
        assertArrayEquals(new int[]{2, 4, 5}, ids);
        assertArrayEquals(ids, bundled.encode("ab ab<|end|>", true));

        Run r = run("run", out.toString(), "--prompt", "ab ab", "--max-new", "2", "--json", "--no-disk-cache");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        List<Integer> prompt = new ArrayList<>();
        j.get("prompt").forEach(n -> prompt.add(n.asInt()));
        assertEquals(Arrays.stream(fromFile.encode("ab ab", true)).boxed().toList(), prompt);
        assertEquals(2, j.get("generated").size(), r.out());

        // the bundled vocabulary is verified like a shard
        try (RandomAccessFile f = new RandomAccessFile(out.resolve(TokenizerInfo.GGUF_FILE).toFile(), "rw")) {
            f.seek(f.length() - 3);
            int b = f.read();
            f.seek(f.length() - 3);
            f.write(b ^ 0x20);
        }
        Run v = run("verify", out.toString());
        assertEquals(1, v.code());
        assertTrue(v.err().contains(TokenizerInfo.GGUF_FILE), v.err());
    }

    @Test
    void aPeerServesAConvertedGgufModel() throws Exception {
        Path model = tmp.resolve("model");
        assertEquals(0, run("shard-convert", fixture("q4_k_m").toString(), model.toString(), "-q").code());
        String hash = Blake3.hashHex(Files.readAllBytes(model.resolve("manifest.json")));
        PeerFetchCommandsTest.Watch watch = new PeerFetchCommandsTest.Watch(Pattern.compile("listening on (\\S+)"));
        StringWriter peerErr = new StringWriter();
        CompletableFuture<Integer> peerExit = new CompletableFuture<>();
        Thread peer = Thread.ofPlatform().name("test-strata-peer-gguf").start(() -> {
            CommandLine cl = io.strata.tools.StrataCli.commandLine();
            cl.setOut(new PrintWriter(watch, true));
            cl.setErr(new PrintWriter(peerErr, true));
            peerExit.complete(cl.execute("peer", "--model", model.toString(), "--listen", "127.0.0.1:0"));
        });
        try {
            Matcher mt = watch.match.get(30, TimeUnit.SECONDS);
            Path out = tmp.resolve("fetched");
            Run f = run("fetch", hash, "--peers", mt.group(1), "--out", out.toString(), "--listen", "127.0.0.1:0");
            assertEquals(0, f.code(), f.err());
            assertEquals(0, run("verify", out.toString()).code());
            for (ShardInfo s : ManifestCodec.read(model).shards()) {
                assertArrayEquals(Files.readAllBytes(model.resolve(s.filename())),
                        Files.readAllBytes(out.resolve(s.filename())), s.filename());
            }
        } finally {
            peer.interrupt();
            peer.join(10_000);
        }
        assertEquals(0, peerExit.get(10, TimeUnit.SECONDS), peerErr.toString());
    }

    // ---- damaged inputs ----

    private byte[] good;

    /** Offset of a tensor info's n_dims field (right after its name) in {@link #good}. */
    private int info(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < good.length - n.length - 8; i++) {
            if (le(good, i).getLong() == n.length && Arrays.equals(good, i + 8, i + 8 + n.length, n, 0, n.length)) {
                return i + 8 + n.length;
            }
        }
        throw new AssertionError(name + " not found");
    }

    private static ByteBuffer le(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).position(at);
    }

    private byte[] patch(int at, long v, boolean u64) {
        byte[] b = good.clone();
        if (u64) {
            le(b, at).putLong(v);
        } else {
            le(b, at).putInt((int) v);
        }
        return b;
    }

    /** Converts {@code bytes}: exit 1, one line naming the file and what, nothing at OUT nor beside it. */
    private void refused(byte[] bytes, String... parts) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "case");
        Path src = dir.resolve("bad.gguf");
        Files.write(src, bytes);
        Path out = dir.resolve("out");
        Run r = run("shard-convert", src.toString(), out.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("strata shard-convert: error: " + src.toAbsolutePath().normalize() + ": "),
                "names the file: " + err);
        for (String p : parts) {
            assertTrue(err.contains(p), "expected '" + p + "' in: " + err);
        }
        assertFalse(Files.exists(out), "nothing at OUT");
        try (var s = Files.list(dir)) {
            assertEquals(List.of(src), s.toList(), "no hidden staging directory left: " + err);
        }
    }

    @Test
    void damagedGgufFilesAreRefusedWithOneLineAndNothingWritten() throws Exception {
        good = Files.readAllBytes(fixture("q4_0"));
        byte[] magic = good.clone();
        magic[0] = 'P';
        magic[1] = 'K';
        refused(magic, "not a GGUF file");
        refused(Arrays.copyOf(good, good.length - 4096), "tensor 'blk.1.ffn_up_exps.weight'",
                "run past the end of the file");
        refused(Arrays.copyOf(good, 200), "tensor count", "bytes are left");
        int upType = info("blk.0.ffn_up_exps.weight") + 4 + 3 * 8;
        refused(patch(upType, 20, false), "tensor 'blk.0.ffn_up_exps.weight'", "ggml type id 20 (IQ4_NL) is not supported");
        refused(patch(upType, 99, false), "tensor 'blk.0.ffn_up_exps.weight'", "ggml type id 99");
        int qOff = info("blk.1.attn_q.weight") + 4 + 2 * 8 + 4;
        refused(patch(qOff, 1L << 30, true), "tensor 'blk.1.attn_q.weight'", "run past the end of the file");
        long oOffset = le(good, info("blk.1.attn_output.weight") + 4 + 2 * 8 + 4).getLong();
        refused(patch(qOff, oOffset, true), "tensors 'blk.1.attn_output.weight' and 'blk.1.attn_q.weight' overlap");
        refused(patch(8, 1L << 40, true), "tensor count 1099511627776 is absurd");
        refused(patch(16, 1L << 40, true), "metadata count 1099511627776 is absurd");
        refused(patch(info("blk.0.ffn_gate_exps.weight") + 4, -5L, true), "tensor 'blk.0.ffn_gate_exps.weight'",
                "absurd");
    }
}
