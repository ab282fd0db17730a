package io.strata.text.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.strata.text.Tokenizer;
import io.strata.text.TokenizerException;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import jinjava.javax.el.CompositeELResolver;

/**
 * A model's chat template ({@code chat_template} of tokenizer_config.json, chat_template.jinja, or GGUF
 * {@code tokenizer.chat_template}) rendered with Jinjava, set up the way Hugging Face renders templates:
 * trim_blocks and lstrip_blocks, {@code {{-}}}/{@code -}}} trimming, natural operator precedence, Python str/dict
 * methods, Python-style {@code tojson}, {@code raise_exception}, {@code strftime_now}, and the two expression
 * forms Jinjava's parser lacks rewritten ({@link JinjaSyntax}). Thread-safe.
 */
public final class ChatTemplate {
    private static final Jinjava JINJAVA = createEngine();

    private final String source;
    private final String name;

    private ChatTemplate(String source, String name) {
        this.source = JinjaSyntax.rewrite(source);
        this.name = name;
    }

    /** A template from its source; {@code name} (a file or GGUF key) appears in errors. */
    public static ChatTemplate of(String source, String name) {
        try {
            return new ChatTemplate(source, name);
        } catch (IllegalArgumentException e) {
            throw new TokenizerException(name + ": chat template: " + e.getMessage());
        }
    }

    /** The tokenizer's own template, if it ships one. */
    public static Optional<ChatTemplate> of(Tokenizer tokenizer) {
        return tokenizer.chatTemplate().map(t -> of(t, tokenizer.source() + " chat_template"));
    }

    /**
     * The prompt for {@code messages}: {@code addGenerationPrompt} opens the assistant's turn; the tokenizer's BOS
     * and EOS token texts are passed as {@code bos_token}/{@code eos_token}.
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Tokenizer tokenizer) {
        return render(messages, addGenerationPrompt, tokenizer.bosToken().orElse(""), tokenizer.eosToken().orElse(""),
                Map.of());
    }

    /**
     * The prompt for {@code messages}. {@code extra} holds further template variables (tools, enable_thinking,
     * reasoning_effort, a fixed {@code now} as a ZonedDateTime for strftime_now, ...), as plain maps, lists,
     * strings, numbers and booleans.
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, String bosToken, String eosToken,
                         Map<String, ?> extra) {
        Map<String, Object> ctx = new HashMap<>();
        List<Map<String, Object>> ms = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            ms.add(m.asTemplateValue());
        }
        ctx.put("messages", ms);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        ctx.put("bos_token", bosToken);
        ctx.put("eos_token", eosToken);
        for (Map.Entry<String, ?> e : extra.entrySet()) {
            if (e.getKey().equals("now")) {
                ctx.put(TemplateFunctions.NOW, e.getValue());
            } else {
                ctx.put(e.getKey(), e.getValue());
            }
        }
        ctx.putIfAbsent(TemplateFunctions.NOW, ZonedDateTime.now());
        RenderResult r;
        try {
            r = JINJAVA.renderForResult(source, ctx);
        } catch (TemplateFunctions.Raised e) {
            throw new TokenizerException(name + ": the chat template refused the conversation: " + e.getMessage());
        } catch (RuntimeException e) {
            throw new TokenizerException(name + ": cannot render the chat template: " + e.getMessage(), e);
        }
        for (TemplateError err : r.getErrors()) {
            Throwable raised = raisedIn(err.getException());
            if (raised != null) {
                throw new TokenizerException(name + ": the chat template refused the conversation: "
                        + raised.getMessage());
            }
        }
        for (TemplateError err : r.getErrors()) {
            if (err.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new TokenizerException(name + ": cannot render the chat template: line " + err.getLineno() + ": "
                        + err.getMessage().replace('\n', ' '));
            }
        }
        return r.getOutput();
    }

    private static Throwable raisedIn(Throwable t) {
        for (int i = 0; t != null && i < 10; i++, t = t.getCause()) {
            if (t instanceof TemplateFunctions.Raised) {
                return t;
            }
        }
        return null;
    }

    private static Jinjava createEngine() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withFailOnUnknownTokens(false)
                .withEnableRecursiveMacroCalls(true)
                .withMaxMacroRecursionDepth(64)
                .withElResolver(resolver)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withEvaluateMapKeys(true)
                        .withIterateOverMapKeys(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .build();
        Jinjava j = new Jinjava(config);
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", TemplateFunctions.class,
                "raiseException", Object.class));
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now", TemplateFunctions.class,
                "strftimeNow", String.class));
        j.getGlobalContext().registerFilter(new PythonJson());
        return j;
    }
}
