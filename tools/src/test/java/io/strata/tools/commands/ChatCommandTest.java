package io.strata.tools.commands;

import static io.strata.tools.commands.Cli.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.model.ModelFamily;
import io.strata.testdata.TestData;
import io.strata.text.Tokenizer;
import io.strata.text.chat.ChatMessage;
import io.strata.text.chat.ChatTemplate;
import io.strata.tools.StrataCli;
import io.strata.tools.commands.Cli.Run;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code strata chat}: the model's chat template applied (the ids fed are the rendering's), the KV cache kept
 * between turns (positions grow, earlier turns are not fed again), a template that does not extend itself detected
 * and re-prefilled; driven in-process, through a stdin pipe, and through a real pseudo-terminal.
 */
class ChatCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path qwen;
    static Path mistral;
    static Tokenizer qwenTok;
    static Tokenizer mistralTok;

    @BeforeAll
    static void build() throws Exception {
        qwen = TextModels.convert(TextModels.checkpoint(tmp.resolve("qwen-ckpt"), "qwen3", ModelFamily.QWEN3_MOE,
                TextModels.QWEN3_VOCAB), tmp.resolve("qwen"));
        mistral = TextModels.convert(TextModels.checkpoint(tmp.resolve("mistral-ckpt"), "mistral-sp32k",
                ModelFamily.MIXTRAL, TextModels.MISTRAL_VOCAB), tmp.resolve("mistral"));
        qwenTok = Tokenizer.load(TestData.dir("tokenizers/qwen3"));
        mistralTok = Tokenizer.load(TestData.dir("tokenizers/mistral-sp32k"));
    }

    private static List<JsonNode> transcript(Path f) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(f)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    private static List<Integer> ids(JsonNode a) {
        List<Integer> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asInt()));
        return out;
    }

    private static List<Integer> encode(Tokenizer t, String text) {
        return Arrays.stream(t.encode(text, false)).boxed().toList();
    }

    /** The KV contract between two consecutive turns, stated from the template and tokenizer alone. */
    private static void assertContinues(Tokenizer tok, ChatTemplate tpl, List<ChatMessage> before, JsonNode t1,
                                        List<ChatMessage> after, JsonNode t2) {
        assertFalse(t2.get("reprefilled").asBoolean(), "this template extends its previous rendering");
        List<Integer> g1 = ids(t1.get("generated"));
        assertEquals(t1.get("position").asInt() + t1.get("fed").size() + g1.size() - 1, t2.get("position").asInt(),
                "turn 2 starts where turn 1's prompt and reply left the KV cache (its last token not fed yet)");
        String rendered1 = tpl.render(before, true, tok);
        String cached = rendered1 + t1.get("content").asText()
                + (t1.get("stop").asText().equals("eos") ? tok.decode(new int[]{g1.getLast()}) : "");
        String rendered2 = tpl.render(after, true, tok);
        assertTrue(rendered2.startsWith(cached), "the template's rendering of the conversation extends turn 1's");
        List<Integer> want = new ArrayList<>();
        want.add(g1.getLast());
        want.addAll(encode(tok, rendered2.substring(cached.length())));
        assertEquals(want, ids(t2.get("fed")), "turn 2 feeds turn 1's last token and the new part's ids only");
    }

    @Test
    void theTemplateIsAppliedAndEachTurnFeedsOnlyItsNewTokensIntoTheKeptCache() throws Exception {
        Path log = tmp.resolve("qwen-chat.jsonl");
        Run r = run("chat", qwen.toString(), "--system", "Be brief.", "--prompt", "Hello, who are you?",
                "--prompt", "Écris « bonjour » 🎉", "--max-new", "6", "--no-disk-cache", "--transcript",
                log.toString());
        assertEquals(0, r.code(), r.err());
        List<JsonNode> turns = transcript(log);
        assertEquals(2, turns.size());
        JsonNode t1 = turns.get(0);
        JsonNode t2 = turns.get(1);
        ChatTemplate tpl = ChatTemplate.of(qwenTok).orElseThrow();
        List<ChatMessage> one = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hello, who are you?"));
        assertEquals(encode(qwenTok, tpl.render(one, true, qwenTok)), ids(t1.get("fed")),
                "turn 1 feeds the ids of the template's rendering");
        assertTrue(ids(t1.get("fed")).contains(qwenTok.tokenId("<|im_start|>").getAsInt()), "a chat-format prompt");
        assertEquals(0, t1.get("position").asInt());
        List<ChatMessage> two = new ArrayList<>(one);
        two.add(ChatMessage.assistant(t1.get("content").asText()));
        two.add(ChatMessage.user("Écris « bonjour » 🎉"));
        assertContinues(qwenTok, tpl, one, t1, two, t2);
        assertEquals("Écris « bonjour » 🎉", t2.get("user").asText());
        assertEquals(t1.get("shown").asText() + System.lineSeparator() + t2.get("shown").asText()
                + System.lineSeparator(), r.out(), "non-interactive: each streamed reply and a newline");
    }

    @Test
    void aTemplateThatDoesNotExtendItsPreviousRenderingIsDetectedAndTheConversationFedAgain() throws Exception {
        Path tplFile = tmp.resolve("counting.jinja");
        Files.writeString(tplFile, "{{ bos_token }}{{ messages|length }} messages\n{% for m in messages %}"
                + "{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}");
        Path log = tmp.resolve("counting.jsonl");
        Run r = run("chat", mistral.toString(), "--chat-template", tplFile.toString(), "--prompt", "one",
                "--prompt", "two", "--max-new", "4", "--no-disk-cache", "--transcript", log.toString());
        assertEquals(0, r.code(), r.err());
        List<JsonNode> turns = transcript(log);
        JsonNode t1 = turns.get(0);
        JsonNode t2 = turns.get(1);
        assertFalse(t1.get("reprefilled").asBoolean());
        assertTrue(t2.get("reprefilled").asBoolean(), "'1 messages' became '3 messages': the cache cannot be reused");
        assertEquals(0, t2.get("position").asInt(), "fed again from position 0");
        ChatTemplate tpl = ChatTemplate.of(Files.readString(tplFile), "t");
        List<ChatMessage> two = List.of(ChatMessage.user("one"), ChatMessage.assistant(t1.get("content").asText()),
                ChatMessage.user("two"));
        assertEquals(encode(mistralTok, tpl.render(two, true, mistralTok)), ids(t2.get("fed")),
                "the whole rendering of the conversation");
    }

    @Test
    void mistralsOwnTemplateIsUsedAndItsRefusalOfASystemMessageIsOneLine() throws Exception {
        Path log = tmp.resolve("mistral.jsonl");
        Run ok = run("chat", mistral.toString(), "--prompt", "Bonjour", "--prompt", "Encore", "--max-new", "4",
                "--no-disk-cache", "--transcript", log.toString());
        assertEquals(0, ok.code(), ok.err());
        List<JsonNode> turns = transcript(log);
        ChatTemplate tpl = ChatTemplate.of(mistralTok).orElseThrow();
        List<ChatMessage> one = List.of(ChatMessage.user("Bonjour"));
        assertEquals(encode(mistralTok, tpl.render(one, true, mistralTok)), ids(turns.get(0).get("fed")));
        assertEquals(mistralTok.bosId().getAsInt(), ids(turns.get(0).get("fed")).getFirst(), "<s> from the template");
        List<ChatMessage> two = List.of(one.getFirst(), ChatMessage.assistant(turns.get(0).get("content").asText()),
                ChatMessage.user("Encore"));
        assertContinues(mistralTok, tpl, one, turns.get(0), two, turns.get(1));

        Run sys = run("chat", mistral.toString(), "--system", "Be brief.", "--prompt", "Hi", "--no-disk-cache");
        assertEquals(1, sys.code());
        assertEquals(1, sys.err().strip().lines().count(), sys.err());
        assertTrue(sys.err().startsWith("strata chat: error: ") && sys.err().contains("chat_template: the chat template"
                + " refused the conversation: Conversation roles must alternate"), sys.err());
    }

    @Test
    void runOnAPaddedVocabularyShowsOnlyTheTokenizersTokens() throws Exception {
        Run r = run("run", qwen.toString(), "--prompt", "你好，世界", "--max-new", "8", "--no-disk-cache", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(encode(qwenTok, "你好，世界"), ids(j.get("prompt")), "Qwen3 adds no BOS");
        int[] known = ids(j.get("generated")).stream().filter(id -> id < qwenTok.vocabSize())
                .mapToInt(Integer::intValue).toArray();
        assertEquals(qwenTok.decode(known, true), j.get("text").asText());
    }

    // ---- real processes: stdin pipe and pseudo-terminal ----------------------------------------------------

    private static List<String> strata(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "--add-modules=jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                StrataCli.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void stdinLinesAreTurnsAndInvalidUtf8OnStdinIsAClearError() throws Exception {
        Path log = tmp.resolve("stdin.jsonl");
        Process p = new ProcessBuilder(strata("chat", qwen.toString(), "--max-new", "5", "--no-disk-cache",
                "--transcript", log.toString())).redirectError(ProcessBuilder.Redirect.PIPE).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write("Premier message\n\nZweite Nachricht ✓\n".getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        List<JsonNode> turns = transcript(log);
        assertEquals(List.of("Premier message", "Zweite Nachricht ✓"),
                turns.stream().map(t -> t.get("user").asText()).toList(), "one turn per non-blank line");
        ChatTemplate tpl = ChatTemplate.of(qwenTok).orElseThrow();
        List<ChatMessage> one = List.of(ChatMessage.user("Premier message"));
        List<ChatMessage> two = List.of(one.getFirst(), ChatMessage.assistant(turns.get(0).get("content").asText()),
                ChatMessage.user("Zweite Nachricht ✓"));
        assertContinues(qwenTok, tpl, one, turns.get(0), two, turns.get(1));
        assertEquals(turns.get(0).get("shown").asText() + "\n" + turns.get(1).get("shown").asText() + "\n", out,
                "no prompt without a terminal: only the replies");

        Process bad = new ProcessBuilder(strata("chat", qwen.toString(), "--max-new", "2", "--no-disk-cache"))
                .start();
        try (OutputStream in = bad.getOutputStream()) {
            in.write(new byte[]{'o', 'k', '\n', 'a', 'b', (byte) 0xFF, 'c', '\n'});
        }
        bad.getInputStream().readAllBytes();
        String badErr = new String(bad.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bad.waitFor(120, TimeUnit.SECONDS));
        assertEquals(1, bad.exitValue(), badErr);
        assertEquals(List.of("strata chat: error: stdin line 2: invalid UTF-8 at byte offset 2"),
                badErr.lines().filter(l -> !l.startsWith("WARNING: Using incubator")).toList());
    }

    /** Everything a process writes, for a test to wait on (bounded) while it keeps writing. */
    private static final class Output {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        Output(InputStream in) {
            Thread t = new Thread(() -> {
                byte[] b = new byte[4096];
                try {
                    for (int n; (n = in.read(b)) >= 0; ) {
                        synchronized (this) {
                            buf.write(b, 0, n);
                            notifyAll();
                        }
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });
            t.setDaemon(true);
            t.start();
        }

        synchronized String text() {
            return buf.toString(StandardCharsets.UTF_8).replace("\r", "");
        }

        /** Waits until the output holds {@code marker} {@code times} times; false at the deadline. */
        synchronized boolean await(String marker, int times, long seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (count(text(), marker) < times) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }

        private static int count(String s, String m) {
            int n = 0;
            for (int i = s.indexOf(m); i >= 0; i = s.indexOf(m, i + m.length())) {
                n++;
            }
            return n;
        }
    }

    private static String shellQuote(List<String> args) {
        return args.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
    }

    @Test
    void inAPseudoTerminalItPromptsStreamsEachReplyKeepsTheCacheAndQuitsOnCtrlD() throws Exception {
        Path log = tmp.resolve("pty.jsonl");
        String cmd = shellQuote(strata("chat", qwen.toString(), "--max-new", "5", "--no-disk-cache", "--transcript",
                log.toString()));
        // util-linux script runs the command on a fresh pseudo-terminal and relays our pipe to it
        Process p = new ProcessBuilder("script", "-q", "-e", "-c", cmd, "/dev/null").redirectErrorStream(true).start();
        Output out = new Output(p.getInputStream());
        OutputStream keys = p.getOutputStream();
        try {
            assertTrue(out.await("> ", 1, 120), "a prompt, as on a terminal: " + out.text());
            keys.write("Hello there\n".getBytes(StandardCharsets.UTF_8));
            keys.flush();
            assertTrue(out.await("> ", 2, 120), "the reply, then the next prompt: " + out.text());
            keys.write("再见 🎉 ok\n".getBytes(StandardCharsets.UTF_8));
            keys.flush();
            assertTrue(out.await("> ", 3, 120), out.text());
            keys.write(4); // Ctrl-D at the start of a line: end of input
            keys.flush();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "Ctrl-D quits: " + out.text());
        } finally {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), out.text());
        List<JsonNode> turns = transcript(log);
        assertEquals(List.of("Hello there", "再见 🎉 ok"), turns.stream().map(t -> t.get("user").asText()).toList(),
                "typed UTF-8 arrives intact through the terminal");
        ChatTemplate tpl = ChatTemplate.of(qwenTok).orElseThrow();
        List<ChatMessage> one = List.of(ChatMessage.user("Hello there"));
        List<ChatMessage> two = List.of(one.getFirst(), ChatMessage.assistant(turns.get(0).get("content").asText()),
                ChatMessage.user("再见 🎉 ok"));
        assertContinues(qwenTok, tpl, one, turns.get(0), two, turns.get(1));
        String screen = out.text();
        String first = "Hello there\n" + turns.get(0).get("shown").asText().replace("\r", "") + "\n> ";
        String second = "再见 🎉 ok\n" + turns.get(1).get("shown").asText().replace("\r", "") + "\n> ";
        assertTrue(screen.contains(first) && screen.contains(second),
                "each reply streamed to the terminal after the echoed input: " + screen);
    }
}
