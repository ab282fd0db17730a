package io.strata.tools.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.strata.storage.gguf.GgufArray;
import io.strata.storage.gguf.GgufValueType;
import io.strata.storage.gguf.GgufWriter;
import io.strata.text.Tokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GGUF source: a file's embedded vocabulary and chat template, read through the real GGUF reader. */
class TokenizerSourceTest {
    @Test
    void aGgufFilesEmbeddedVocabularyAndChatTemplateAreTheModelsTokenizer(@TempDir Path tmp) {
        Path f = tmp.resolve("tiny.gguf");
        List<Object> tokens = List.of("a", "b", "ab", "Ġ", "Ġab", "<|end|>");
        new GgufWriter()
                .putString("tokenizer.ggml.model", "gpt2")
                .put("tokenizer.ggml.tokens", GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING, tokens))
                .put("tokenizer.ggml.token_type", GgufValueType.ARRAY,
                        new GgufArray(GgufValueType.INT32, List.of(1, 1, 1, 1, 1, 3)))
                .put("tokenizer.ggml.merges", GgufValueType.ARRAY,
                        new GgufArray(GgufValueType.STRING, List.of("a b", "Ġ ab")))
                .putUint32("tokenizer.ggml.eos_token_id", 5)
                .putString("tokenizer.chat_template", "{% for m in messages %}{{ m.content }}<|end|>{% endfor %}")
                .write(f);
        Tokenizer t = TokenizerSource.forModel(f, true).open();
        assertArrayEquals(new int[]{2, 4, 5}, t.encode("ab ab<|end|>", false));
        assertArrayEquals(new int[]{5}, t.eosIds());
        assertEquals("{% for m in messages %}{{ m.content }}<|end|>{% endfor %}", t.chatTemplate().orElseThrow());
        assertEquals(f.toString(), t.source());
    }
}
