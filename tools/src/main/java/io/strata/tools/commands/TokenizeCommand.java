package io.strata.tools.commands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.text.Tokenizer;
import io.strata.text.TokenizerException;
import io.strata.text.Utf8;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata tokenize}: text to ids and back with a model's own tokenizer (tokenizer.json). */
@Command(name = "tokenize", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Encode text to token ids, or decode ids to text, with a model's tokenizer.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  TOKENIZER is a tokenizer.json, or a directory holding one (a converted model or a",
                "  Hugging Face checkpoint). Prints the ids of TEXT (or of --file) comma-separated on one",
                "  line; special tokens written in the text (<|im_start|>, <s>) are recognised. --decode",
                "  prints the text of ids instead; --jsonl reads one JSON string per line on stdin and writes",
                "  {\"ids\":[..]} per line. Text must be valid UTF-8."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:done", "1:the tokenizer or the input is invalid", "2:bad usage"},
        footerHeading = "%nEXAMPLES%n",
        footer = {"  strata tokenize ./qwen3 'Hello world'", "  strata tokenize ./qwen3 --decode 9707,1879",
                "  printf '\"a\"\\n\"b c\"\\n' | strata tokenize ./qwen3 --jsonl"})
public final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TOKENIZER", description = "tokenizer.json or a directory holding one.")
    Path tokenizer;

    @Parameters(index = "1", arity = "0..1", paramLabel = "TEXT", description = "The text to encode.")
    String text;

    @Option(names = "--special", description = "Add the special tokens the tokenizer adds around a sequence (BOS/EOS).")
    boolean special;

    @Option(names = "--file", paramLabel = "FILE", description = "Encode the text of FILE (UTF-8) instead of TEXT.")
    Path file;

    @Option(names = "--decode", paramLabel = "IDS", split = ",", description = "Print the text of these ids (1,2,3).")
    int[] decode;

    @Option(names = "--skip-special", description = "With --decode: leave special tokens out of the text.")
    boolean skipSpecial;

    @Option(names = "--jsonl", description = "Read one JSON string per line on stdin, write {\"ids\":[..]} per line.")
    boolean jsonl;

    @Override
    public Integer call() throws IOException {
        int modes = (text != null ? 1 : 0) + (file != null ? 1 : 0) + (decode != null ? 1 : 0) + (jsonl ? 1 : 0);
        if (modes != 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "give exactly one of TEXT, --file, --decode or --jsonl");
        }
        Tokenizer tok = Tokenizer.load(tokenizer);
        PrintWriter out = spec.commandLine().getOut();
        if (decode != null) {
            out.println(tok.decode(decode, skipSpecial));
        } else if (jsonl) {
            encodeLines(tok, System.in, out);
        } else {
            String t = text != null ? text : Utf8.readStrict(file);
            out.println(join(tok.encode(t, special)));
        }
        out.flush();
        return 0;
    }

    private void encodeLines(Tokenizer tok, InputStream in, PrintWriter out) throws IOException {
        byte[] all = in.readAllBytes();
        int line = 0;
        int start = 0;
        while (start < all.length) {
            int end = start;
            while (end < all.length && all[end] != '\n') {
                end++;
            }
            line++;
            String where = "stdin line " + line;
            String s = Utf8.decodeStrict(Arrays.copyOfRange(all, start, end), where).strip();
            start = end + 1;
            if (s.isEmpty()) {
                continue;
            }
            JsonNode n;
            try {
                n = JSON.readTree(s);
            } catch (IOException e) {
                throw new TokenizerException(where + ": not JSON: " + s);
            }
            if (n == null || !n.isTextual()) {
                throw new TokenizerException(where + ": expected a JSON string, got " + s);
            }
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            JSON.writeValue(buf, java.util.Map.of("ids", tok.encode(n.asText(), special)));
            out.println(buf.toString(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static String join(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
