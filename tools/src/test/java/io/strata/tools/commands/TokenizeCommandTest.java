package io.strata.tools.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.testdata.TestData;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code strata tokenize} through the real command line, against the reference ids of cases.json. */
class TokenizeCommandTest {
    private static final String QWEN3 = TestData.dir("tokenizers/qwen3").toString();
    private static final String MISTRAL = TestData.dir("tokenizers/mistral-sp32k").toString();

    @TempDir
    Path tmp;

    private static JsonNode reference(String dir, String text) throws Exception {
        for (JsonNode c : new ObjectMapper().readTree(Path.of(dir, "cases.json").toFile())) {
            if (c.get("text").asText().equals(text)) {
                return c;
            }
        }
        throw new AssertionError("no case " + text);
    }

    private static String commaIds(JsonNode ids) {
        StringBuilder b = new StringBuilder();
        ids.forEach(i -> b.append(b.isEmpty() ? "" : ",").append(i.asInt()));
        return b.toString();
    }

    @Test
    void printsIdsOfTextWithAndWithoutSpecialTokens() throws Exception {
        String text = "The quick brown fox jumps over the lazy dog.";
        Cli.Run r = Cli.run("tokenize", MISTRAL, text);
        assertEquals(0, r.code(), r.err());
        assertEquals(commaIds(reference(MISTRAL, text).get("ids")), r.out().strip());
        Cli.Run s = Cli.run("tokenize", MISTRAL, "--special", text);
        assertEquals(commaIds(reference(MISTRAL, text).get("idsWithSpecialTokens")), s.out().strip());
        // a tokenizer.json file works as well as its directory
        Cli.Run f = Cli.run("tokenize", Path.of(QWEN3, "tokenizer.json").toString(), "Hello world");
        assertEquals(commaIds(reference(QWEN3, "Hello world").get("ids")), f.out().strip());
    }

    @Test
    void decodesIds() throws Exception {
        JsonNode c = reference(QWEN3, "emoji 🙂👍🏽 and 🇺🇸 flags");
        Cli.Run r = Cli.run("tokenize", QWEN3, "--decode", commaIds(c.get("ids")));
        assertEquals(0, r.code(), r.err());
        assertEquals(c.get("decoded").asText() + System.lineSeparator(), r.out());
        Cli.Run skip = Cli.run("tokenize", QWEN3, "--skip-special", "--decode", "151644,872,198,6023,151645");
        assertEquals("user\nhi", skip.out().strip());
    }

    @Test
    void jsonlReadsOneStringPerLine() throws Exception {
        String a = "Hello world";
        String b = "<|im_start|>user\nhi<|im_end|>";
        String input = "\"Hello world\"\n\n\"<|im_start|>user\\nhi<|im_end|>\"\n";
        Cli.Run r = withStdin(input.getBytes(StandardCharsets.UTF_8), "tokenize", QWEN3, "--jsonl");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\\R");
        assertEquals(2, lines.length, r.out());
        assertEquals("{\"ids\":[" + commaIds(reference(QWEN3, a).get("ids")) + "]}", lines[0]);
        assertEquals("{\"ids\":[" + commaIds(reference(QWEN3, b).get("ids")) + "]}", lines[1]);
    }

    @Test
    void invalidUtf8IsAClearError() throws Exception {
        Path prompt = tmp.resolve("prompt.txt");
        Files.write(prompt, new byte[]{'a', 'b', 'c', (byte) 0xC3, '(', 'd'});
        Cli.Run r = Cli.run("tokenize", QWEN3, "--file", prompt.toString());
        assertEquals(1, r.code());
        assertEquals("strata tokenize: error: " + prompt + ": invalid UTF-8 at byte offset 3", r.err().strip());

        Cli.Run s = withStdin(new byte[]{'"', 'a', '"', '\n', '"', (byte) 0xFF, '"', '\n'}, "tokenize", QWEN3, "--jsonl");
        assertEquals(1, s.code());
        assertEquals("strata tokenize: error: stdin line 2: invalid UTF-8 at byte offset 1", s.err().strip());

        Files.writeString(prompt, "héllo");
        Cli.Run ok = Cli.run("tokenize", QWEN3, "--file", prompt.toString());
        assertEquals(0, ok.code(), ok.err());
    }

    @Test
    void badTokenizerAndBadUsage() throws Exception {
        Cli.Run noTok = Cli.run("tokenize", tmp.toString(), "hi");
        assertEquals(1, noTok.code());
        assertEquals("strata tokenize: error: " + tmp + ": no tokenizer.json in this directory", noTok.err().strip());

        Path bad = tmp.resolve("tokenizer.json");
        Files.writeString(bad, "{\"model\": {\"type\": \"WordLevel\", \"vocab\": {}}}");
        Cli.Run unsupported = Cli.run("tokenize", bad.toString(), "hi");
        assertEquals(1, unsupported.code());
        assertEquals("strata tokenize: error: " + bad + ": model.type: model type 'WordLevel' is not supported "
                + "(supported: BPE)", unsupported.err().strip());

        Cli.Run usage = Cli.run("tokenize", QWEN3);
        assertEquals(2, usage.code());
        assertTrue(usage.err().contains("give exactly one of TEXT, --file, --decode or --jsonl"), usage.err());
    }

    private static Cli.Run withStdin(byte[] stdin, String... args) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(stdin));
        try {
            return Cli.run(args);
        } finally {
            System.setIn(saved);
        }
    }
}
