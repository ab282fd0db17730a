package io.strata.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The components on small hand-written tokenizer.json files, with expectations worked out by hand from the
 * Hugging Face semantics (and the splitting examples of its documentation), plus the one-line errors.
 */
class TokenizerComponentsTest {
    @TempDir
    Path dir;

    /** A BPE vocabulary over a, b, c, ▁ and a few merges; the rest of the file comes from {@code extra}. */
    private Tokenizer tiny(String extra) throws IOException {
        String json = """
                {"model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true,
                   "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "a": 3, "b": 4, "c": 5, "\u2581": 6, "ab": 7,
                             "\u2581ab": 8, "<mask>": 9, "abc": 10},
                   "merges": ["a b", "\u2581 ab", "ab c"]}
                """ + extra + "}";
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, json);
        return Tokenizer.load(f);
    }

    private String error(String json) throws IOException {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, json);
        return assertThrows(TokenizerException.class, () -> Tokenizer.load(f)).getMessage()
                .replace(f.toString(), "bad.json");
    }

    @Test
    void unknownCharactersFuseIntoOneUnknownToken() throws IOException {
        Tokenizer t = tiny("");
        assertArrayEquals(new int[]{7, 0, 5}, t.encode("abxyc", false));
        assertArrayEquals(new int[]{10}, t.encode("abc", false));
    }

    @Test
    void metaspaceFirstPrependsOnlyAtTheStartAndItsDecoderDropsIt() throws IOException {
        Tokenizer t = tiny("""
                , "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": true},
                  "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first"},
                  "added_tokens": [{"id": 1, "content": "<s>", "special": true, "normalized": false}]
                """);
        // "ab ab": ▁ab | ▁ab ; after <s> the text does not start the input, so no ▁ is prepended
        assertArrayEquals(new int[]{8, 8}, t.encode("ab ab", false));
        assertArrayEquals(new int[]{8, 1, 7}, t.encode("ab<s>ab", false));
        assertEquals("ab ab", t.decode(new int[]{8, 8}));
    }

    @Test
    void addedTokenFlagsStripSpacesAndRespectWords() throws IOException {
        Tokenizer t = tiny("""
                , "added_tokens": [
                   {"id": 9, "content": "<mask>", "lstrip": true, "rstrip": true, "normalized": false, "special": true},
                   {"id": 11, "content": "ca", "single_word": true, "normalized": false, "special": false}]
                """);
        // lstrip/rstrip swallow the spaces around <mask>; unknown spaces would otherwise give <unk>
        assertArrayEquals(new int[]{7, 9, 5}, t.encode("ab  <mask> c", false));
        // single_word: "ca" alone is the added token; inside "abca" it is not, and BPE makes abc + a
        assertArrayEquals(new int[]{11, 0, 7}, t.encode("ca ab", false));
        assertArrayEquals(new int[]{10, 3}, t.encode("abca", false));
        assertEquals(12, t.vocabSize());
        assertEquals("<mask>", t.decode(new int[]{9}));
        assertEquals("", t.decode(new int[]{9}, true));
    }

    @Test
    void templateProcessingAddsBosAndEos() throws IOException {
        Tokenizer t = tiny("""
                , "post_processor": {"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                              {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                   "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                                                   "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}
                """);
        assertArrayEquals(new int[]{1, 7, 2}, t.encode("ab", true));
        assertArrayEquals(new int[]{7}, t.encode("ab", false));
        assertArrayEquals(new int[]{1, 2}, t.encode("", true));
    }

    @Test
    void normalizerSequencePrependsAndReplaces() throws IOException {
        Tokenizer t = tiny("""
                , "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                   {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
                """);
        assertArrayEquals(new int[]{8, 8}, t.encode("ab ab", false));
        assertArrayEquals(new int[0], t.encode("", false));
    }

    /** The examples of Hugging Face's SplitDelimiterBehavior documentation: "the-final--countdown" on "-". */
    @Test
    void splitBehaviors() {
        Pattern dash = Pattern.compile("-");
        assertEquals(List.of("the", "final", "countdown"), split(SplitBehavior.REMOVED, dash, false));
        assertEquals(List.of("the", "-", "final", "-", "-", "countdown"), split(SplitBehavior.ISOLATED, dash, false));
        assertEquals(List.of("the-", "final-", "-", "countdown"), split(SplitBehavior.MERGED_WITH_PREVIOUS, dash, false));
        assertEquals(List.of("the", "-final", "-", "-countdown"), split(SplitBehavior.MERGED_WITH_NEXT, dash, false));
        assertEquals(List.of("the", "-", "final", "--", "countdown"), split(SplitBehavior.CONTIGUOUS, dash, false));
        assertEquals(List.of("the", "final", "countdown"),
                split(SplitBehavior.REMOVED, Pattern.compile("[a-z]+"), true));
    }

    private static List<String> split(SplitBehavior b, Pattern p, boolean invert) {
        List<Piece> out = new ArrayList<>();
        b.split(p, invert, "the-final--countdown", true, out);
        return out.stream().map(Piece::text).toList();
    }

    @Test
    void decoders() throws IOException {
        Spec wp = Spec.root("t.json", new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"type\": \"WordPiece\", \"prefix\": \"##\", \"cleanup\": true}"));
        assertEquals(List.of("un", "aff", " able", "."),
                Decoder.fromJson(wp).decodeChain(List.of("un", "##aff", "able", ".")));
        Spec strip = Spec.root("t.json", new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"type\": \"Strip\", \"content\": \" \", \"start\": 2, \"stop\": 1}"));
        assertEquals(List.of(" a ", "b", "c"), Decoder.fromJson(strip).decodeChain(List.of("   a  ", "b", " c")));
        assertEquals(List.of("\uFFFD", "\uFFFD", "x", "é"),
                Decoder.byteFallback(List.of("<0xC3>", "<0x28>", "x", "<0xC3>", "<0xA9>")));
    }

    @Test
    void badFilesGiveOneLineNamingFileAndField() throws IOException {
        assertEquals("bad.json: model.type: model type 'Unigram' is not supported (supported: BPE)",
                error("{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0]]}}"));
        assertEquals("bad.json: model.type: model type 'Banana' is not supported (supported: BPE)",
                error("{\"model\": {\"type\": \"Banana\"}}"));
        assertEquals("bad.json: model.merges[1]: malformed merge 'abc' (expected \"left right\")",
                error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [\"a b\", \"abc\"]}}"));
        assertEquals("bad.json: model.merges[0]: malformed merge (expected \"left right\" or [left, right])",
                error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [[\"a\", 3]]}}"));
        assertEquals("bad.json: model.merges[0]: merged token 'ab' is not in the vocabulary",
                error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\"]}}"));
        assertEquals("bad.json: model.merges[0]: token 'q' is not in the vocabulary",
                error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"q a\"]}}"));
        assertEquals("bad.json: model: missing field 'merges'",
                error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}}"));
        assertEquals("bad.json: normalizer: normalizer type 'BertNormalizer' is not supported",
                error("{\"normalizer\": {\"type\": \"BertNormalizer\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}"));
        assertEquals("bad.json: pre_tokenizer.pretokenizers[1]: pre_tokenizer type 'UnicodeScripts' is not supported",
                error("{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\"}, "
                        + "{\"type\": \"UnicodeScripts\"}]}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}"));
        assertEquals("bad.json: decoder: decoder type 'CTC' is not supported",
                error("{\"decoder\": {\"type\": \"CTC\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}"));
        assertEquals("bad.json: pre_tokenizer.pattern.Regex: regex not supported: Unclosed group",
                error("{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a\"}, \"behavior\": \"Isolated\"}, "
                        + "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}"));
        assertEquals("bad.json: not valid JSON (line 1: Unexpected end-of-input within/between Object entries)",
                error("{\"model\": "));
    }

    @Test
    void directoryWithoutTokenizerIsNamed() {
        assertEquals(dir + ": no tokenizer.json in this directory",
                assertThrows(TokenizerException.class, () -> Tokenizer.load(dir)).getMessage());
    }
}
