package io.strata.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.testdata.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Components the three real files do not use (Metaspace in both prepend schemes, GPT-2's ByteLevel with prefix
 * space and regex, Digits, Punctuation, WhitespaceSplit, Whitespace, Split with every behavior and invert,
 * NFKC/Lowercase/Strip/regex Replace, lstrip/rstrip/single_word/normalized added tokens, a BOS+EOS template):
 * each variant is a real tokenizer.json with components swapped, checked against the ids and text the Hugging
 * Face library gave for ~300 strings (testdata/data/tokenizers/variants/*.json).
 */
class ComponentVariantsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, ObjectNode> BASES = new java.util.concurrent.ConcurrentHashMap<>();

    @TempDir
    static Path tmp;

    @TestFactory
    Stream<DynamicTest> variantsAgreeWithHuggingFace() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        Path dir = TestData.dir("tokenizers/variants");
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                tests.add(DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(f)));
            }
        }
        return tests.stream();
    }

    private static void check(Path variant) throws Exception {
        JsonNode v = JSON.readTree(variant.toFile());
        ObjectNode tok = BASES.computeIfAbsent(v.get("base").asText(), b -> {
            try {
                return (ObjectNode) JSON.readTree(ReferenceCasesTest.dir(b).resolve("tokenizer.json").toFile());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).deepCopy();
        for (Map.Entry<String, JsonNode> e : v.get("replace").properties()) {
            if (e.getKey().equals("added_tokens_extra")) {
                ((ArrayNode) tok.get("added_tokens")).addAll((ArrayNode) e.getValue());
            } else {
                tok.set(e.getKey(), e.getValue());
            }
        }
        Path file = tmp.resolve(variant.getFileName());
        JSON.writeValue(file.toFile(), tok);
        Tokenizer t = Tokenizer.load(file);
        List<String> wrong = new ArrayList<>();
        for (JsonNode c : v.get("cases")) {
            String text = c.get("text").asText();
            int[] ids = t.encode(text, false);
            if (!Arrays.equals(ReferenceCasesTest.ints(c.get("ids")), ids)) {
                wrong.add("ids of " + ReferenceCasesTest.quote(text) + ": expected " + c.get("ids") + " got "
                        + Arrays.toString(ids));
            } else if (!Arrays.equals(ReferenceCasesTest.ints(c.get("idsWithSpecialTokens")), t.encode(text, true))) {
                wrong.add("idsWithSpecialTokens of " + ReferenceCasesTest.quote(text) + ": expected "
                        + c.get("idsWithSpecialTokens") + " got " + Arrays.toString(t.encode(text, true)));
            } else if (!c.get("decoded").asText().equals(t.decode(ids))) {
                wrong.add("decode of " + ReferenceCasesTest.quote(text) + ": expected "
                        + ReferenceCasesTest.quote(c.get("decoded").asText()) + " got " + ReferenceCasesTest.quote(t.decode(ids)));
            }
        }
        assertEquals(List.of(), wrong.subList(0, Math.min(8, wrong.size())), wrong.size() + " of "
                + v.get("cases").size() + " strings differ");
    }
}
