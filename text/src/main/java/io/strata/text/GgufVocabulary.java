package io.strata.text;

import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Builds a tokenizer from the vocabulary a GGUF file embeds. The GGUF reader hands its metadata over as a plain
 * map, so this class depends on no reader; the contract (key: Java type) is
 * <ul>
 * <li>{@code tokenizer.ggml.model}: String, {@code llama} (SentencePiece scores), {@code gpt2} (byte-level BPE
 * merges) or {@code none} (ids only; encode/decode then fail with a clear message)</li>
 * <li>{@code tokenizer.ggml.tokens}: List&lt;String&gt;, indexed by id</li>
 * <li>{@code tokenizer.ggml.scores}: List&lt;Number&gt; (llama; missing means all 0)</li>
 * <li>{@code tokenizer.ggml.token_type}: List&lt;Number&gt;: 1 normal, 2 unknown, 3 control, 4 user-defined,
 * 5 unused, 6 byte. Unknown, control and user-defined tokens are matched in the text before encoding.</li>
 * <li>{@code tokenizer.ggml.merges}: List&lt;String&gt; of {@code "left right"} (gpt2)</li>
 * <li>{@code tokenizer.ggml.pre}: String, the pre-tokenizer name llama.cpp uses (gpt2; e.g. {@code llama-bpe},
 * {@code qwen2}, {@code deepseek-v3}, {@code gpt-4o}, {@code tekken}; missing means {@code default})</li>
 * <li>{@code tokenizer.ggml.bos_token_id}, {@code eos_token_id}, {@code unknown_token_id}, {@code eot_token_id},
 * {@code eom_token_id}: Number (Long, Integer, ...)</li>
 * <li>{@code tokenizer.ggml.add_bos_token}, {@code add_eos_token}, {@code add_space_prefix}: Boolean</li>
 * <li>{@code tokenizer.chat_template}: String</li>
 * </ul>
 * Lists may also be given as Java arrays ({@code String[]}, {@code float[]}, {@code int[]}, ...).
 * A value of the wrong type, a missing required key or an unknown model/pre name is an error naming the key.
 */
final class GgufVocabulary {
    static final String MODEL = "tokenizer.ggml.model";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TYPES = "tokenizer.ggml.token_type";
    static final String MERGES = "tokenizer.ggml.merges";
    static final String PRE = "tokenizer.ggml.pre";

    private static final int TYPE_UNKNOWN = 2;
    private static final int TYPE_CONTROL = 3;
    private static final int TYPE_USER_DEFINED = 4;

    private final Map<String, ?> md;
    private final String source;

    private GgufVocabulary(Map<String, ?> md, String source) {
        this.md = md;
        this.source = source;
    }

    static Tokenizer load(Map<String, ?> metadata, String source) {
        return new GgufVocabulary(metadata, source).build();
    }

    private Tokenizer build() {
        String model = string(MODEL, null);
        if (model == null) {
            throw fail(MODEL, "missing (no tokenizer in this file)");
        }
        String template = string("tokenizer.chat_template", null);
        if (model.equals("none")) {
            return new Tokenizer(source, new AddedVocabulary(List.of(), null), null, null, null, PostProcessor.NONE,
                    null, -1, new int[0], template);
        }
        List<String> tokenList = list(TOKENS, String.class, true);
        String[] tokens = tokenList.toArray(new String[0]);
        int[] types = new int[tokens.length];
        List<Number> typeList = list(TYPES, Number.class, false);
        if (typeList != null) {
            if (typeList.size() != tokens.length) {
                throw fail(TYPES, "has " + typeList.size() + " entries for " + tokens.length + " tokens");
            }
            for (int i = 0; i < types.length; i++) {
                types[i] = typeList.get(i).intValue();
            }
        }
        return switch (model) {
            case "llama" -> llama(tokens, types, template);
            case "gpt2" -> gpt2(tokens, types, template);
            default -> throw fail(MODEL, "tokenizer model '" + model + "' is not supported (supported: llama, gpt2, none)");
        };
    }

    private Tokenizer llama(String[] tokens, int[] types, String template) {
        float[] scores = new float[tokens.length];
        List<Number> scoreList = list(SCORES, Number.class, false);
        if (scoreList != null) {
            if (scoreList.size() != tokens.length) {
                throw fail(SCORES, "has " + scoreList.size() + " entries for " + tokens.length + " tokens");
            }
            for (int i = 0; i < scores.length; i++) {
                scores[i] = scoreList.get(i).floatValue();
            }
        }
        int unk = id("tokenizer.ggml.unknown_token_id", tokens.length, 0);
        int bos = id("tokenizer.ggml.bos_token_id", tokens.length, 1);
        int eos = id("tokenizer.ggml.eos_token_id", tokens.length, 2);
        markControl(types, unk, bos, eos);
        boolean spacePrefix = bool("tokenizer.ggml.add_space_prefix", true);
        Normalizer norm = null;
        if (spacePrefix) {
            Normalizer spaces = Normalizer.replace(Pattern.compile(" "), "\u2581");
            norm = t -> t.isEmpty() ? t : "\u2581" + spaces.normalize(t);
        } else {
            Normalizer spaces = Normalizer.replace(Pattern.compile(" "), "\u2581");
            norm = spaces;
        }
        AddedVocabulary added = addedTokens(tokens, types);
        return new Tokenizer(source, added, norm, null, new SpmModel(tokens, scores, unk),
                bosEos(bos, eos, bool("tokenizer.ggml.add_bos_token", true), bool("tokenizer.ggml.add_eos_token", false)),
                Decoder.sentencePiece(spacePrefix), bos, stopIds(eos, tokens.length), template);
    }

    private Tokenizer gpt2(String[] tokens, int[] types, String template) {
        List<String> mergeList = list(MERGES, String.class, true);
        List<String[]> merges = new ArrayList<>(mergeList.size());
        for (int i = 0; i < mergeList.size(); i++) {
            String m = mergeList.get(i);
            int sp = m.indexOf(' ', 1);
            if (sp < 0 || sp == m.length() - 1 || m.indexOf(' ', sp + 1) >= 0) {
                throw fail(MERGES + "[" + i + "]", "malformed merge '" + m + "' (expected \"left right\")");
            }
            merges.add(new String[]{m.substring(0, sp), m.substring(sp + 1)});
        }
        Map<String, Integer> vocab = new HashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) {
            vocab.putIfAbsent(tokens[i], i);
        }
        String preName = string(PRE, "default");
        Pre pre = Pre.of(preName);
        if (pre == null) {
            throw fail(PRE, "pre-tokenizer '" + preName + "' is not supported");
        }
        List<PreTokenizer> steps = new ArrayList<>();
        for (String rx : pre.regexes) {
            steps.add(PreTokenizer.split(OnigRegex.compile(rx), SplitBehavior.ISOLATED, false, null));
        }
        steps.add(PreTokenizer.byteLevel(false, false));
        int bos = id("tokenizer.ggml.bos_token_id", tokens.length, -1);
        int eos = id("tokenizer.ggml.eos_token_id", tokens.length, -1);
        markControl(types, bos, eos);
        TokenModel model = new BpeModel(vocab, merges, null, false, false, null, null, pre.ignoreMerges,
                source + ": " + MERGES);
        Normalizer norm = pre.nfc ? t -> java.text.Normalizer.normalize(t, Form.NFC) : null;
        return new Tokenizer(source, addedTokens(tokens, types), norm, PreTokenizer.sequence(steps), model,
                bosEos(bos, eos, bool("tokenizer.ggml.add_bos_token", pre.addBos), bool("tokenizer.ggml.add_eos_token", false)),
                Decoder.byteLevel(), bos, stopIds(eos, tokens.length), template);
    }

    /**
     * llama.cpp's pre-tokenizer names with the split regexes of the tokenizer.json they stand for (Hugging Face's
     * originals, not llama.cpp's rewrites for its own regex engine), whether a word in the vocabulary is taken
     * whole (ignore_merges), whether BOS is added by default and whether the text is NFC-normalized first.
     */
    private record Pre(List<String> regexes, boolean ignoreMerges, boolean addBos, boolean nfc) {
        static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
                + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        static final String O200K = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
                + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
                + "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*"
                + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        static final String TEKKEN = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
                + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}"
                + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        static final String DEEPSEEK3 = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
                + "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
        static final String GPT2 = PreTokenizer.GPT2_REGEX;

        static Pre of(String name) {
            return switch (name) {
                case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2" ->
                        new Pre(List.of(LLAMA3), true, true, false);
                case "dbrx", "smaug-bpe", "chatglm-bpe" -> new Pre(List.of(LLAMA3), false, false, false);
                case "qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan", "megrez" ->
                        new Pre(List.of(QWEN2), false, false, true);
                case "gpt-4o", "llama4", "minimax-m2" -> new Pre(List.of(O200K), true, false, false);
                case "tekken" -> new Pre(List.of(TEKKEN), true, true, false);
                case "deepseek-v3", "hunyuan-dense" ->
                        new Pre(List.of("\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+", DEEPSEEK3), false, false, false);
                case "deepseek-coder" -> new Pre(List.of("[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+",
                        "\\p{N}"), false, false, false);
                case "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais", "trillion", "jina-es", "jina-de", "jina-v2-es",
                     "jina-v2-de", "gigachat", "granite-docling" -> new Pre(List.of(GPT2), false, false, false);
                case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b" ->
                        new Pre(List.of("\\p{N}", GPT2), false, false, false);
                case "falcon" -> new Pre(List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"), false, false,
                        false);
                case "default" -> new Pre(List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"),
                        false, false, false);
                default -> null;
            };
        }
    }

    private static void markControl(int[] types, int... ids) {
        for (int id : ids) {
            if (id >= 0 && id < types.length && (types[id] == 0 || types[id] == 1)) {
                types[id] = TYPE_CONTROL;
            }
        }
    }

    private static AddedVocabulary addedTokens(String[] tokens, int[] types) {
        List<AddedVocabulary.AddedToken> added = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            int t = types[i];
            if (t == TYPE_CONTROL || t == TYPE_UNKNOWN || t == TYPE_USER_DEFINED) {
                added.add(new AddedVocabulary.AddedToken(i, tokens[i], false, false, false, false, t != TYPE_USER_DEFINED));
            }
        }
        return new AddedVocabulary(added, null);
    }

    private static PostProcessor bosEos(int bos, int eos, boolean addBos, boolean addEos) {
        int[] pre = addBos && bos >= 0 ? new int[]{bos} : new int[0];
        int[] post = addEos && eos >= 0 ? new int[]{eos} : new int[0];
        return ids -> {
            int[] out = new int[pre.length + ids.length + post.length];
            System.arraycopy(pre, 0, out, 0, pre.length);
            System.arraycopy(ids, 0, out, pre.length, ids.length);
            System.arraycopy(post, 0, out, pre.length + ids.length, post.length);
            return out;
        };
    }

    private int[] stopIds(int eos, int n) {
        Set<Integer> ids = new LinkedHashSet<>();
        if (eos >= 0) {
            ids.add(eos);
        }
        for (String k : List.of("tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id")) {
            int id = id(k, n, -1);
            if (id >= 0) {
                ids.add(id);
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private TokenizerException fail(String key, String reason) {
        return new TokenizerException(source + ": " + key + ": " + reason);
    }

    private String string(String key, String dflt) {
        Object v = md.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof String s)) {
            throw fail(key, "expected a string, got " + v.getClass().getSimpleName());
        }
        return s;
    }

    private boolean bool(String key, boolean dflt) {
        Object v = md.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Boolean b)) {
            throw fail(key, "expected a boolean, got " + v.getClass().getSimpleName());
        }
        return b;
    }

    private int id(String key, int n, int dflt) {
        Object v = md.get(key);
        if (v == null) {
            return dflt < n ? dflt : -1;
        }
        if (!(v instanceof Number num) || v instanceof Float || v instanceof Double) {
            throw fail(key, "expected an integer token id, got " + v.getClass().getSimpleName());
        }
        long id = num.longValue();
        if (id < 0 || id >= n) {
            throw fail(key, "token id " + id + " is outside the vocabulary of " + n + " tokens");
        }
        return (int) id;
    }

    private <T> List<T> list(String key, Class<T> elem, boolean required) {
        Object v = md.get(key);
        if (v == null) {
            if (required) {
                throw fail(key, "missing");
            }
            return null;
        }
        if (v.getClass().isArray()) { // a reader may hand arrays over as Java arrays (String[], float[], int[])
            int n = java.lang.reflect.Array.getLength(v);
            List<Object> boxed = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                boxed.add(java.lang.reflect.Array.get(v, i));
            }
            v = boxed;
        }
        if (!(v instanceof List<?> l)) {
            throw fail(key, "expected a list, got " + v.getClass().getSimpleName());
        }
        for (int i = 0; i < l.size(); i++) {
            if (!elem.isInstance(l.get(i))) {
                throw fail(key + "[" + i + "]", "expected " + elem.getSimpleName() + ", got "
                        + (l.get(i) == null ? "null" : l.get(i).getClass().getSimpleName()));
            }
        }
        @SuppressWarnings("unchecked")
        List<T> typed = (List<T>) l;
        return typed;
    }
}
