package io.strata.tools.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.strata.core.util.RegularFiles;
import io.strata.loader.runtime.ModelRuntime;
import io.strata.tools.generate.DecodeSession;
import io.strata.tools.generate.RunOptions;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code strata score}: teacher-forced logits, per-token negative log-likelihood and perplexity of a token sequence,
 * the measure of a quantisation's quality (what llama.cpp's perplexity tool is to its users) and what fidelity
 * tests compare. Weights are paged exactly as {@code run} pages them, from a converted model or a GGUF file.
 */
@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Score token ids under a model: teacher-forced logits, NLL and perplexity.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  Feeds the ids (at least two) through the model in one teacher-forced pass: position i sees",
                "  ids[0..i] and its logits predict ids[i+1]. The negative log-likelihood of each predicted id",
                "  is computed from the log-softmax of its position's logits (in double precision), and the",
                "  perplexity is exp(mean NLL) over the n-1 predicted ids. Prints the perplexity and the mean",
                "  NLL; with --json prints one JSON object instead:",
                "  {\"ids\":[..],\"logits\":[[V floats] one array per position, n in all],\"nll\":[n-1 values],",
                "  \"perplexity\":x}.",
                "",
                "  MODEL is a converted model directory or a GGUF file, read in place (its bytes are read",
                "  unverified: GGUF carries no hashes). Dense weights stay resident; experts are paged through",
                "  the tiers within the budgets, as with run, and the results do not depend on the budgets.",
                "  The sampling options (--temperature, --top-p, --seed) have no effect here."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:scored", "1:error (bad model, id outside the vocabulary, budget too small, ...)",
                "2:bad usage"},
        footerHeading = "%nEXAMPLES%n",
        footer = {"  strata score ./mixtral-q4_k_m.gguf --ids 1,415,2936,9060,285 --json",
                "  strata score ./mixtral-strata --file wiki.ids --host-budget 8GiB"})
public final class ScoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MODEL", description = "A converted model directory, or a .gguf file.")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Ids input;

    /** Exactly one of the two ways to give the ids. */
    static final class Ids {
        @Option(names = "--ids", paramLabel = "IDS", split = ",", required = true,
                description = "Token ids, comma-separated, e.g. 1,2,3.")
        List<Integer> ids;

        @Option(names = "--file", paramLabel = "FILE", required = true,
                description = "Token ids read from FILE, separated by commas and/or whitespace.")
        Path file;
    }

    @Option(names = "--json", description = "Print one JSON object with ids, per-position logits, nll and perplexity.")
    boolean json;

    @Mixin
    RunOptions options;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int[] ids = input.ids != null ? input.ids.stream().mapToInt(Integer::intValue).toArray() : readIds(input.file);
        if (ids.length < 2) {
            throw new IllegalArgumentException((input.file != null ? input.file + ": " : "--ids: ") + ids.length
                    + " id(s): scoring needs at least two (the first is context, the rest are predicted)");
        }
        RunCommand.noteUnverified(model, "score", err);
        List<float[]> logits;
        try (ModelRuntime rt = ModelRuntime.open(model, options.runtime());
             DecodeSession s = DecodeSession.open(rt, model.toString(), options.runtime(), options.kv(),
                     options.sampler(), options.decoder(), false)) {
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] < 0 || ids[i] >= s.vocabSize()) {
                    throw new IllegalArgumentException((input.file != null ? input.file + ": " : "--ids: ") + "id "
                            + ids[i] + " (position " + i + ") is outside the vocabulary [0, " + s.vocabSize() + ")");
                }
            }
            logits = s.teacherForced(ids);
        }
        double[] nll = new double[ids.length - 1];
        double sum = 0;
        for (int i = 0; i < nll.length; i++) {
            nll[i] = nll(logits.get(i), ids[i + 1]);
            sum += nll[i];
        }
        double mean = sum / nll.length;
        double perplexity = Math.exp(mean);
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode root = mapper.createObjectNode();
            ArrayNode idNode = root.putArray("ids");
            for (int id : ids) {
                idNode.add(id);
            }
            ArrayNode l = root.putArray("logits");
            for (float[] step : logits) {
                ArrayNode a = l.addArray();
                for (float v : step) {
                    a.add(v);
                }
            }
            ArrayNode n = root.putArray("nll");
            for (double v : nll) {
                n.add(v);
            }
            root.put("perplexity", perplexity);
            out.println(mapper.writeValueAsString(root));
        } else {
            out.printf(Locale.ROOT, "perplexity %.4f%nmean nll   %.6f over %d predicted tokens%n", perplexity, mean,
                    nll.length);
        }
        out.flush();
        return 0;
    }

    /** -log softmax(logits)[target], in double: log-sum-exp shifted by the maximum. */
    static double nll(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (float v : logits) {
            s += Math.exp(v - max);
        }
        return max + Math.log(s) - logits[target];
    }

    /** Ids separated by commas and/or whitespace; a token that is not a non-negative integer names the file. */
    static int[] readIds(Path file) throws java.io.IOException {
        String text = new String(RegularFiles.read(file, 64L << 20), StandardCharsets.UTF_8).strip();
        List<Integer> out = new ArrayList<>();
        if (text.isEmpty()) {
            return new int[0];
        }
        int index = 0;
        for (String tok : text.split("[,\\s]+")) {
            if (tok.isEmpty()) {
                continue; // a leading comma
            }
            try {
                int v = Integer.parseInt(tok);
                if (v < 0) {
                    throw new NumberFormatException();
                }
                out.add(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": entry " + index + " '" + tok + "' is not a token id"
                        + " (a non-negative integer)");
            }
            index++;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
