package io.strata.tools.generate;

import com.fasterxml.jackson.databind.JsonNode;
import io.strata.text.Tokenizer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A model's text side: its tokenizer checked against the model (every id it can produce must be one the model
 * takes), and the ids that end a reply: the tokenizer's EOS and generation_config stop ids, the config's
 * {@code eos_token_id} (a number or a list), and any the user adds with --stop.
 */
public final class ModelText {
    private final Tokenizer tokenizer;
    private final int modelVocab;
    private final Set<Integer> eos;

    private ModelText(Tokenizer tokenizer, int modelVocab, Set<Integer> eos) {
        this.tokenizer = tokenizer;
        this.modelVocab = modelVocab;
        this.eos = eos;
    }

    /** {@code config} is the model's config.json (the manifest's {@code config}); {@code model} names it. */
    public static ModelText of(Tokenizer tokenizer, JsonNode config, String model) {
        int vocab = config == null ? -1 : config.path("vocab_size").asInt(-1);
        if (vocab > 0 && tokenizer.vocabSize() > vocab) {
            throw new IllegalArgumentException(tokenizer.source() + ": has " + tokenizer.vocabSize()
                    + " tokens but the config of " + model + " says vocab_size " + vocab
                    + ": not this model's tokenizer");
        }
        Set<Integer> eos = new LinkedHashSet<>();
        for (int id : tokenizer.eosIds()) {
            eos.add(id);
        }
        JsonNode e = config == null ? null : config.get("eos_token_id");
        if (e != null && e.isInt()) {
            eos.add(e.asInt());
        } else if (e != null && e.isArray()) {
            e.forEach(n -> {
                if (n.isInt()) {
                    eos.add(n.asInt());
                }
            });
        }
        return new ModelText(tokenizer, vocab > 0 ? vocab : Integer.MAX_VALUE, Set.copyOf(eos));
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The ids of {@code text}; {@code addSpecial} applies the tokenizer's post-processor (BOS). */
    public List<Integer> encode(String text, boolean addSpecial) {
        List<Integer> ids = new ArrayList<>();
        for (int id : tokenizer.encode(text, addSpecial)) {
            ids.add(id);
        }
        return ids;
    }

    /** EOS ids plus {@code extra} (--stop), every one checked to be a token of the model. */
    public Set<Integer> stops(List<Integer> extra) {
        Set<Integer> s = new LinkedHashSet<>(eos);
        if (extra != null) {
            for (int id : extra) {
                if (id < 0 || id >= modelVocab) {
                    throw new IllegalArgumentException("--stop: token id " + id + " is outside the model's"
                            + " vocabulary [0, " + modelVocab + ")");
                }
                s.add(id);
            }
        }
        return s;
    }

    public TextStream stream(java.io.PrintWriter out) {
        return new TextStream(tokenizer, out);
    }
}
