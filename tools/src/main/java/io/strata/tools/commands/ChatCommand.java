package io.strata.tools.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.manifest.Manifest;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.text.Tokenizer;
import io.strata.text.TokenizerException;
import io.strata.text.Utf8;
import io.strata.text.chat.ChatTemplate;
import io.strata.tools.generate.ChatSession;
import io.strata.tools.generate.DecodeSession;
import io.strata.tools.generate.ModelText;
import io.strata.tools.generate.RunOptions;
import io.strata.tools.generate.StatsTable;
import io.strata.tools.generate.TokenizerSource;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code strata chat}: a conversation with a converted model, rendered by its own chat template, over one runtime
 * and one KV cache for the whole conversation (see {@link ChatSession} for what is fed each turn).
 */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Chat with a converted MoE model, using its chat template.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Each line you type is a user message. The conversation is rendered with the model's chat",
                "  template (chat_template of tokenizer_config.json, chat_template.jinja, or a GGUF file's",
                "  tokenizer.chat_template; --chat-template overrides it) and the reply is streamed as it is",
                "  generated, until an EOS or end-of-turn token, a --stop id, or --max-new tokens. The KV cache",
                "  is kept between turns: each turn feeds only its new tokens (a template that rewrites earlier",
                "  turns makes it feed the whole conversation again). Experts stay paged between turns.",
                "  Ctrl-D (end of input) quits.",
                "",
                "  Without a terminal, or with --prompt, it runs non-interactively: each --prompt (else each",
                "  line of stdin) is one user message, and each reply is printed followed by a newline.",
                "  --transcript writes one JSON object per turn: {\"turn\",\"user\",\"position\",\"fed\":[ids],",
                "  \"generated\":[ids],\"content\",\"shown\",\"stop\":\"eos\"|\"max-new\",\"reprefilled\"}."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:done (end of input)", "1:error (no tokenizer or template, bad input, ...)", "2:bad usage"},
        footerHeading = "%nEXAMPLES%n",
        footer = {"  strata chat ./qwen3-strata --system 'You are terse.'",
                "  strata chat ./mixtral-strata --prompt 'Hello' --prompt 'And then?' --max-new 64",
                "  printf 'Hi\\nWhy?\\n' | strata chat ./qwen3-strata --transcript chat.jsonl"})
public final class ChatCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "A converted model directory (see shard-convert).")
    Path model;

    @Option(names = "--system", paramLabel = "TEXT", description = "A system message opening the conversation.")
    String system;

    @Option(names = "--prompt", paramLabel = "TEXT",
            description = "A user message; repeat for several turns. Given, stdin is not read.")
    List<String> prompts;

    @Option(names = "--max-new", paramLabel = "N", defaultValue = "512",
            description = "Most tokens per reply. Default: ${DEFAULT-VALUE}.")
    int maxNew;

    @Option(names = "--stop", paramLabel = "IDS", split = ",",
            description = "Further token ids that end a reply, e.g. 2,32000.")
    List<Integer> stop;

    @Option(names = "--chat-template", paramLabel = "FILE",
            description = "A Jinja chat template to use instead of the model's.")
    Path templateFile;

    @Option(names = "--transcript", paramLabel = "FILE", description = "Write one JSON object per turn to FILE.")
    Path transcript;

    @Option(names = "--stats", description = "Print tier telemetry for the whole conversation to stderr at the end.")
    boolean stats;

    @Mixin
    RunOptions options;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (Files.isDirectory(model) && !Files.exists(model.resolve(Manifest.FILE_NAME))) {
            throw new IllegalArgumentException(model + " is not a converted model (no manifest.json): run "
                    + "`strata shard-convert` first");
        }
        RunCommand.noteUnverified(model, "chat", err);
        boolean interactive = prompts == null && System.console() != null && System.console().isTerminal();
        List<Integer> allFed = new ArrayList<>();
        List<Integer> allGenerated = new ArrayList<>();
        try (ModelRuntime rt = ModelRuntime.open(model, options.runtime());
             DecodeSession session = DecodeSession.open(rt, model.toString(), options.runtime(), options.kv(),
                     options.sampler(), options.decoder(), false)) {
            // the runtime's manifest: whatever the model's origin, its config gives vocab_size and eos_token_id
            Tokenizer tok = TokenizerSource.forModel(model, !options.trustLocal).open();
            ModelText text = ModelText.of(tok, rt.manifest().config(), model.toString());
            ChatTemplate template = templateFile != null
                    ? ChatTemplate.of(Utf8.readStrict(templateFile), templateFile.toString())
                    : ChatTemplate.of(tok).orElseThrow(() -> new TokenizerException(tok.source() + ": the tokenizer"
                            + " has no chat template (chat_template in tokenizer_config.json, chat_template.jinja):"
                            + " give one with --chat-template FILE"));
            ChatSession chat = new ChatSession(session, text, template, system, maxNew, text.stops(stop));
            try (OutputStream log = transcript == null ? OutputStream.nullOutputStream()
                    : Files.newOutputStream(transcript)) {
                converse(chat, log, interactive, out, allFed, allGenerated);
            }
            if (stats && !allFed.isEmpty()) {
                err.print(StatsTable.format(session.result(allFed, allGenerated)));
                err.flush();
            }
        }
        return 0;
    }

    /** Turns until the end of input. */
    private void converse(ChatSession chat, OutputStream log, boolean interactive, PrintWriter out,
                          List<Integer> allFed, List<Integer> allGenerated) throws IOException {
        Lines lines = prompts != null ? new Lines(prompts) : new Lines(new BufferedInputStream(System.in));
        while (true) {
            if (interactive) {
                out.print("> ");
                out.flush();
            }
            String line = lines.next();
            if (line == null) {
                break;
            }
            if (line.isBlank() && prompts == null) {
                continue;
            }
            ChatSession.Turn t = chat.say(line, out);
            out.println();
            out.flush();
            allFed.addAll(t.fed());
            allGenerated.addAll(t.generated());
            log.write(JSON.writeValueAsBytes(json(t)));
            log.write('\n');
            log.flush();
        }
        if (interactive) {
            out.println();
            out.flush();
        }
    }

    private static ObjectNode json(ChatSession.Turn t) {
        ObjectNode n = JSON.createObjectNode();
        n.put("turn", t.number());
        n.put("user", t.user());
        n.put("position", t.position());
        t.fed().forEach(n.putArray("fed")::add);
        t.generated().forEach(n.putArray("generated")::add);
        n.put("content", t.content());
        n.put("shown", t.shown());
        n.put("stop", t.stopped() ? "eos" : "max-new");
        n.put("reprefilled", t.reprefilled());
        return n;
    }

    /** User messages: the --prompt values, or stdin's lines (strict UTF-8, a trailing CR dropped). */
    private static final class Lines {
        private final List<String> given;
        private final InputStream in;
        private int index;

        Lines(List<String> given) {
            this.given = given;
            this.in = null;
        }

        Lines(InputStream in) {
            this.given = null;
            this.in = in;
        }

        /** The next message, or null at the end of input. */
        String next() throws IOException {
            if (given != null) {
                return index < given.size() ? given.get(index++) : null;
            }
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0 && b != '\n') {
                line.write(b);
            }
            if (b < 0 && line.size() == 0) {
                return null;
            }
            index++;
            String s = Utf8.decodeStrict(line.toByteArray(), "stdin line " + index);
            return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }
    }
}
