package io.strata.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a Hugging Face tokenizer: {@code tokenizer.json} (model, added tokens, normalizer, pre-tokenizer,
 * post-processor, decoder) and, beside it, {@code tokenizer_config.json} (bos/eos token, chat_template),
 * {@code generation_config.json} (further stop ids) and {@code chat_template.jinja}. Every problem is one line
 * naming the file and the field.
 */
final class HfTokenizerFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfTokenizerFiles() {
    }

    static Tokenizer load(Path file) {
        String name = file.toString();
        Parsed parsed = parse(file);
        Spec root = Spec.root(name, parsed.rest);
        Normalizer normalizer = Normalizer.fromJson(root.opt("normalizer"));
        PreTokenizer pre = PreTokenizer.fromJson(root.opt("pre_tokenizer"));
        TokenModel model = model(root.req("model"), parsed);
        List<AddedVocabulary.AddedToken> addedTokens = new ArrayList<>();
        if (root.has("added_tokens")) {
            // Ids as the Hugging Face library assigns them when it loads the file: a token already in the model
            // vocabulary takes that id, a new one the next free id after the vocabulary; the "id" field is only
            // checked there. For files the library wrote the two agree.
            Map<String, Integer> assigned = new HashMap<>();
            int max = -1;
            int modelSize = parsed.vocab().size();
            for (Spec t : root.array("added_tokens")) {
                String content = t.str("content");
                if (content.isEmpty()) {
                    continue;
                }
                Integer id = assigned.get(content);
                if (id == null) {
                    id = model.tokenToId(content);
                }
                if (id < 0) {
                    id = max < 0 ? modelSize : max >= modelSize || modelSize == 0 ? max + 1 : modelSize;
                }
                assigned.put(content, id);
                max = Math.max(max, id);
                boolean special = t.bool("special", false);
                addedTokens.add(new AddedVocabulary.AddedToken(id, content, t.bool("single_word", false),
                        t.bool("lstrip", false), t.bool("rstrip", false), t.bool("normalized", !special), special));
            }
        }
        AddedVocabulary added = new AddedVocabulary(addedTokens, normalizer);
        PostProcessor post = PostProcessor.fromJson(root.opt("post_processor"));
        Decoder decoder = Decoder.fromJson(root.opt("decoder"));

        Path dir = file.toAbsolutePath().getParent();
        Companions c = companions(dir, added, model);
        return new Tokenizer(name, added, normalizer, pre, model, post, decoder, c.bosId, c.eosIds, c.chatTemplate);
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(Utf8.readBytes(file));
        } catch (JsonProcessingException e) {
            throw new TokenizerException(file + ": not valid JSON (line " + e.getLocation().getLineNr() + ": "
                    + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * tokenizer.json with its two big members, model.vocab and model.merges, streamed straight into their final
     * form; the rest as a JSON tree. (A full tree of a 200k-token file costs seconds and hundreds of MB.)
     */
    record Parsed(ObjectNode rest, Map<String, Integer> vocab, List<String[]> merges) {
    }

    static Parsed parse(Path file) {
        String where = file.toString();
        byte[] bytes = Utf8.readBytes(file);
        try (JsonParser p = JSON.getFactory().createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new TokenizerException(where + ": not a tokenizer.json (expected a JSON object)");
            }
            ObjectNode rest = JSON.createObjectNode();
            Map<String, Integer> vocab = null;
            List<String[]> merges = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (!field.equals("model") || t != JsonToken.START_OBJECT) {
                    rest.set(field, p.readValueAsTree());
                    continue;
                }
                ObjectNode model = JSON.createObjectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String mf = p.currentName();
                    JsonToken mt = p.nextToken();
                    if (mf.equals("vocab") && mt == JsonToken.START_OBJECT) {
                        vocab = new HashMap<>(1 << 18);
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String tok = p.currentName();
                            if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0
                                    || p.getLongValue() > Integer.MAX_VALUE) {
                                throw new TokenizerException(where + ": model.vocab: id of token '" + tok
                                        + "' is not a non-negative integer");
                            }
                            vocab.put(tok, p.getIntValue());
                        }
                        model.putObject("vocab");
                    } else if (mf.equals("merges") && mt == JsonToken.START_ARRAY) {
                        merges = new ArrayList<>(1 << 18);
                        while (p.nextToken() != JsonToken.END_ARRAY) {
                            merges.add(merge(p, where + ": model.merges[" + merges.size() + "]"));
                        }
                        model.putArray("merges");
                    } else {
                        model.set(mf, p.readValueAsTree());
                    }
                }
                rest.set("model", model);
            }
            return new Parsed(rest, vocab, merges);
        } catch (JsonProcessingException e) {
            throw new TokenizerException(where + ": not valid JSON (line " + e.getLocation().getLineNr() + ": "
                    + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new TokenizerException(where + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** One merge: {@code "left right"} (older files) or {@code ["left", "right"]}. */
    private static String[] merge(JsonParser p, String where) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) {
            String m = p.getText();
            int sp = m.indexOf(' ');
            if (sp <= 0 || sp == m.length() - 1 || m.indexOf(' ', sp + 1) >= 0) {
                throw new TokenizerException(where + ": malformed merge '" + m + "' (expected \"left right\")");
            }
            return new String[]{m.substring(0, sp), m.substring(sp + 1)};
        }
        if (t == JsonToken.START_ARRAY) {
            String a = p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
            String b = a != null && p.nextToken() == JsonToken.VALUE_STRING ? p.getText() : null;
            if (b != null && p.nextToken() == JsonToken.END_ARRAY) {
                return new String[]{a, b};
            }
        }
        throw new TokenizerException(where + ": malformed merge (expected \"left right\" or [left, right])");
    }

    private static TokenModel model(Spec m, Parsed parsed) {
        String type = m.has("type") ? m.type() : (m.has("merges") ? "BPE" : null);
        if (type == null) {
            throw m.fail("missing field 'type'");
        }
        if (!type.equals("BPE")) {
            throw m.req("type").fail("model type '" + type + "' is not supported (supported: BPE)");
        }
        if (parsed.vocab == null) {
            throw m.has("vocab") ? m.req("vocab").fail("must be an object of token to id") : m.fail("missing field 'vocab'");
        }
        if (parsed.merges == null) {
            throw m.has("merges") ? m.req("merges").fail("must be an array") : m.fail("missing field 'merges'");
        }
        Map<String, Integer> vocab = parsed.vocab;
        List<String[]> merges = parsed.merges;
        if (m.has("dropout") && m.req("dropout").node().asDouble() > 0) {
            throw m.req("dropout").fail("BPE dropout is not supported for inference (it makes ids random)");
        }
        return new BpeModel(vocab, merges, m.str("unk_token", null), m.bool("fuse_unk", false),
                m.bool("byte_fallback", false), m.str("continuing_subword_prefix", null),
                m.str("end_of_word_suffix", null), m.bool("ignore_merges", false), m.where() + ".merges");
    }

    private record Companions(int bosId, int[] eosIds, String chatTemplate) {
    }

    private static Companions companions(Path dir, AddedVocabulary added, TokenModel model) {
        int bos = -1;
        Set<Integer> eos = new LinkedHashSet<>();
        String template = null;
        Path config = dir == null ? null : dir.resolve("tokenizer_config.json");
        if (config != null && Files.isRegularFile(config)) {
            Spec c = Spec.root(config.toString(), readJson(config));
            bos = tokenIdOf(c, "bos_token", added, model);
            int e = tokenIdOf(c, "eos_token", added, model);
            if (e >= 0) {
                eos.add(e);
            }
            template = chatTemplate(c);
        }
        Path gen = dir == null ? null : dir.resolve("generation_config.json");
        if (gen != null && Files.isRegularFile(gen)) {
            Spec g = Spec.root(gen.toString(), readJson(gen));
            Spec ids = g.opt("eos_token_id");
            if (ids != null) {
                for (JsonNode n : ids.node().isArray() ? ids.node() : List.of(ids.node())) {
                    if (!n.canConvertToInt()) {
                        throw ids.fail("must be an id or a list of ids");
                    }
                    eos.add(n.asInt());
                }
            }
            if (bos < 0 && g.opt("bos_token_id") != null && g.req("bos_token_id").node().canConvertToInt()) {
                bos = g.req("bos_token_id").node().asInt();
            }
        }
        Path jinja = dir == null ? null : dir.resolve("chat_template.jinja");
        if (template == null && jinja != null && Files.isRegularFile(jinja)) {
            template = Utf8.readStrict(jinja);
        }
        return new Companions(bos, eos.stream().mapToInt(Integer::intValue).toArray(), template);
    }

    /** {@code "bos_token": "<s>"} or {@code {"content": "<s>", ...}}, as an id; -1 when unset. */
    private static int tokenIdOf(Spec c, String field, AddedVocabulary added, TokenModel model) {
        Spec t = c.opt(field);
        if (t == null) {
            return -1;
        }
        String content = t.node().isTextual() ? t.node().asText() : t.node().isObject() ? t.str("content") : null;
        if (content == null) {
            throw t.fail("must be a token string or {\"content\": ...}");
        }
        AddedVocabulary.AddedToken a = added.byContent(content);
        int id = a != null ? a.id() : model.tokenToId(content);
        if (id < 0) {
            throw t.fail("token '" + content + "' is not in the vocabulary");
        }
        return id;
    }

    /** A string, or a list of {name, template} of which "default" (else the first) is taken. */
    private static String chatTemplate(Spec c) {
        Spec t = c.opt("chat_template");
        if (t == null) {
            return null;
        }
        if (t.node().isTextual()) {
            return t.node().asText();
        }
        if (t.node().isArray()) {
            List<Spec> all = c.array("chat_template");
            for (Spec s : all) {
                if ("default".equals(s.str("name", ""))) {
                    return s.str("template");
                }
            }
            if (!all.isEmpty()) {
                return all.getFirst().str("template");
            }
            return null;
        }
        throw t.fail("must be a string or a list of {name, template}");
    }
}
