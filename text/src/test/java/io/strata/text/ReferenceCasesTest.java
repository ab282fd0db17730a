package io.strata.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.testdata.TestData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of the reference cases.json files (ids, ids with special tokens and decoded text as the Hugging Face
 * tokenizers library produced them) against this implementation, for the three real tokenizers.
 */
class ReferenceCasesTest {
    static final List<String> TOKENIZERS = List.of("qwen3", "mistral-sp32k", "gpt-oss");
    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    static Tokenizer tokenizer(String name) {
        return LOADED.computeIfAbsent(name, n -> Tokenizer.fromDirectory(TestData.dir("tokenizers/" + n)));
    }

    static JsonNode cases(String name, String file) throws Exception {
        return new ObjectMapper().readTree(TestData.dir("tokenizers/" + name).resolve(file).toFile());
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> everyReferenceCase() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : TOKENIZERS) {
            for (JsonNode c : cases(name, "cases.json")) {
                String text = c.get("text").asText();
                tests.add(DynamicTest.dynamicTest(name + ": " + text.replace("\n", "\\n"), () -> {
                    Tokenizer t = tokenizer(name);
                    int[] ids = t.encode(text, false);
                    assertArrayEquals(ints(c.get("ids")), ids, "ids");
                    assertArrayEquals(ints(c.get("idsWithSpecialTokens")), t.encode(text, true), "idsWithSpecialTokens");
                    assertEquals(c.get("decoded").asText(), t.decode(ids), "decoded");
                }));
            }
        }
        return tests.stream();
    }

    /**
     * 498 generated strings per tokenizer (seeded mixes of scripts, emoji, whitespace runs, digits, contractions,
     * special-token text, NBSP, zero-width and control characters, combining marks) with the ids and decoded text
     * of the Hugging Face tokenizers library (Rust, through DJL 0.38), generated once outside this build.
     */
    @TestFactory
    Stream<DynamicTest> generatedCasesAgreeWithHuggingFace() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : TOKENIZERS) {
            JsonNode cases = cases(name, "fuzz-cases.json");
            tests.add(DynamicTest.dynamicTest(name + " (" + cases.size() + " strings)", () -> {
                Tokenizer t = tokenizer(name);
                List<String> wrong = new ArrayList<>();
                for (JsonNode c : cases) {
                    String text = c.get("text").asText();
                    int[] ids = t.encode(text, false);
                    if (!java.util.Arrays.equals(ints(c.get("ids")), ids)) {
                        wrong.add("ids of " + quote(text) + ": expected " + c.get("ids") + " got "
                                + java.util.Arrays.toString(ids));
                    } else if (!java.util.Arrays.equals(ints(c.get("idsWithSpecialTokens")), t.encode(text, true))) {
                        wrong.add("idsWithSpecialTokens of " + quote(text));
                    } else if (!c.get("decoded").asText().equals(t.decode(ids))) {
                        wrong.add("decode of " + quote(text) + ": expected " + quote(c.get("decoded").asText()) + " got "
                                + quote(t.decode(ids)));
                    }
                }
                assertEquals(List.of(), wrong.subList(0, Math.min(10, wrong.size())), wrong.size() + " strings differ");
            }));
        }
        return tests.stream();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) || c == 0x200B) {
                b.append(String.format("\\u%04X", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.append('"').toString();
    }

    static Path dir(String name) {
        return TestData.dir("tokenizers/" + name);
    }
}
