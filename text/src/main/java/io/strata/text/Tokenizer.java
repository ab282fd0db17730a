package io.strata.text;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Text to token ids and back, the way the model's own tokenizer does it: a Hugging Face {@code tokenizer.json}
 * (with its {@code tokenizer_config.json}) or the vocabulary embedded in a GGUF file. Encoding runs the Hugging
 * Face pipeline: added/special tokens are split out first, the text between them is normalized, pre-tokenized
 * into words and encoded by the model (BPE merges or SentencePiece scores); {@code addSpecialTokens} applies the
 * post-processor (BOS/EOS). Instances are immutable and safe to share between threads.
 */
public final class Tokenizer {
    private final String source;
    private final AddedVocabulary added;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final TokenModel model;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final int bosId;
    private final int[] eosIds;
    private final String chatTemplate;

    Tokenizer(String source, AddedVocabulary added, Normalizer normalizer, PreTokenizer preTokenizer, TokenModel model,
              PostProcessor postProcessor, Decoder decoder, int bosId, int[] eosIds, String chatTemplate) {
        this.source = source;
        this.added = added;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        this.bosId = bosId;
        this.eosIds = eosIds.clone();
        this.chatTemplate = chatTemplate;
    }

    /**
     * A {@code tokenizer.json}, or a directory holding one (a converted model or a Hugging Face checkpoint); beside
     * it {@code tokenizer_config.json}, {@code generation_config.json} and {@code chat_template.jinja} are read
     * when present (BOS/EOS tokens, stop ids, chat template).
     */
    public static Tokenizer load(Path fileOrDirectory) {
        if (Files.isDirectory(fileOrDirectory)) {
            return fromDirectory(fileOrDirectory);
        }
        return HfTokenizerFiles.load(fileOrDirectory);
    }

    /** The tokenizer of a model directory: {@code DIR/tokenizer.json} and its companion files. */
    public static Tokenizer fromDirectory(Path dir) {
        Path json = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            throw new TokenizerException(dir + ": no tokenizer.json in this directory");
        }
        return HfTokenizerFiles.load(json);
    }

    /**
     * The vocabulary embedded in GGUF metadata ({@code tokenizer.ggml.*}); see {@link GgufVocabulary} for the
     * expected keys and value types. {@code source} names the file in errors.
     */
    public static Tokenizer fromGgufMetadata(Map<String, ?> metadata, String source) {
        return GgufVocabulary.load(metadata, source);
    }

    /** Where this tokenizer came from (a file path, or the GGUF file name). */
    public String source() {
        return source;
    }

    /**
     * The ids of {@code text}. Added and special tokens written in the text (such as {@code <|im_start|>}) are
     * always recognised, as the Hugging Face library does; {@code addSpecialTokens} adds what the post-processor
     * adds around a sequence (the BOS of Llama/Mistral; nothing for Qwen or GPT-OSS).
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        requireVocabulary();
        IntList ids = new IntList(text.length() / 3 + 4);
        List<Piece> words = new ArrayList<>();
        for (AddedVocabulary.Segment seg : added.extract(text, normalizer)) {
            if (seg.tokenId() >= 0) {
                ids.add(seg.tokenId());
                continue;
            }
            if (preTokenizer == null) {
                model.tokenize(seg.text(), ids);
                continue;
            }
            words.clear();
            preTokenizer.split(new Piece(seg.text(), seg.atStart()), words);
            for (Piece w : words) {
                model.tokenize(w.text(), ids);
            }
        }
        int[] out = ids.toArray();
        return addSpecialTokens ? postProcessor.addSpecialTokens(out) : out;
    }

    /** The text of {@code ids}, special tokens included (as written, e.g. {@code <|im_end|>}). */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** The text of {@code ids}; with {@code skipSpecialTokens} the special tokens are left out. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        requireVocabulary();
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            AddedVocabulary.AddedToken a = added.byId(id);
            String t = a != null ? a.content() : model.idToToken(id);
            if (t == null) {
                throw new TokenizerException(source + ": token id " + id + " is outside the vocabulary (size "
                        + vocabSize() + ")");
            }
            if (skipSpecialTokens && a != null && a.special()) {
                continue;
            }
            tokens.add(t);
        }
        if (decoder == null) {
            return String.join(" ", tokens);
        }
        return String.join("", decoder.decodeChain(tokens));
    }

    /** A decoder for generated ids one at a time (see {@link StreamingDecoder}). */
    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        requireVocabulary();
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    /** Number of distinct ids: the model vocabulary plus added tokens beyond it. */
    public int vocabSize() {
        int n = model == null ? 0 : model.vocabSize();
        for (AddedVocabulary.AddedToken t : added.tokens()) {
            n = Math.max(n, t.id() + 1);
        }
        return n;
    }

    /** The id of a token string (an added token or a vocabulary entry). */
    public OptionalInt tokenId(String token) {
        AddedVocabulary.AddedToken a = added.byContent(token);
        if (a != null) {
            return OptionalInt.of(a.id());
        }
        int id = model == null ? -1 : model.tokenToId(token);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The token string of an id, as stored in the vocabulary (byte-level or ▁ form). */
    public Optional<String> token(int id) {
        AddedVocabulary.AddedToken a = added.byId(id);
        if (a != null) {
            return Optional.of(a.content());
        }
        return Optional.ofNullable(model == null ? null : model.idToToken(id));
    }

    public boolean isSpecial(int id) {
        return added.isSpecial(id);
    }

    /** The beginning-of-sequence id, when the tokenizer has one (Qwen3 has none). */
    public OptionalInt bosId() {
        return bosId < 0 ? OptionalInt.empty() : OptionalInt.of(bosId);
    }

    /** The ids that end generation: the EOS token and any further stop ids of generation_config.json. */
    public int[] eosIds() {
        return eosIds.clone();
    }

    /** The BOS token text, for chat templates. */
    public Optional<String> bosToken() {
        return bosId < 0 ? Optional.empty() : token(bosId);
    }

    /** The EOS token text (the first EOS id), for chat templates. */
    public Optional<String> eosToken() {
        return eosIds.length == 0 ? Optional.empty() : token(eosIds[0]);
    }

    /** The Jinja chat template shipped with the tokenizer, if any. */
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /** False for a GGUF vocabulary of type {@code none}: the model takes and gives ids only. */
    public boolean hasVocabulary() {
        return model != null;
    }

    private void requireVocabulary() {
        if (model == null) {
            throw new TokenizerException(source + ": tokenizer.ggml.model is 'none': this model has no vocabulary; "
                    + "give token ids instead of text");
        }
    }
}
