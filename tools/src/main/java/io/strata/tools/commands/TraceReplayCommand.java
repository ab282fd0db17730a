package io.strata.tools.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.loader.policy.Policies;
import io.strata.loader.trace.ReplayResult;
import io.strata.loader.trace.RoutingTrace;
import io.strata.loader.trace.TraceReplay;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata trace-replay}: hit rates of cache policies on a routing trace, against Belady's optimum. */
@Command(name = "trace-replay", mixinStandardHelpOptions = true, sortOptions = false,
        headerHeading = "%n", header = "Replay an expert-routing trace through a cache policy and Belady's MIN.",
        synopsisHeading = "%nSYNOPSIS%n  ",
        descriptionHeading = "%nDESCRIPTION%n",
        description = {
                "  TRACE is JSON lines, one router decision per line:",
                "    {\"step\":0,\"layer\":3,\"token\":0,\"experts\":[5,1],\"weights\":[0.7,0.3]}",
                "  (weights optional), or a reference.json whose 'trace' field is an array of such objects.",
                "  Every record's experts are referenced in order against one global cache of CAPACITY",
                "  (layer, expert) entries. Prints the policy's hit rate, Belady's optimal (MIN) hit rate on the",
                "  same trace and capacity, and their ratio. The policies are the objects the runtime's expert",
                "  caches use: lru, lfu, tinylfu (Caffeine's W-TinyLFU), reuse-distance (expected reuse distance;",
                "  'moe' is its old name), next-visit (the default: chance of use at the layer's next visit per",
                "  access until then, learned online from the routing), or all."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:replayed", "1:the trace is missing or malformed", "2:bad usage"},
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata trace-replay trace.jsonl --capacity 12.5%%,25%%,50%% --policy all")
public final class TraceReplayCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TRACE", description = "Routing trace (JSON lines or reference.json).")
    Path trace;

    @Option(names = "--capacity", required = true, split = ",", paramLabel = "N",
            description = "Cache capacity in experts across all layers, or a percentage of all the trace's experts"
                    + " (layers x experts per layer); several may be given: 32,64,128 or 25%%,50%%.")
    List<String> capacities;

    @Option(names = "--policy", defaultValue = Policies.DEFAULT, paramLabel = "P",
            description = "lru, lfu, tinylfu, reuse-distance (alias moe), next-visit or all"
                    + " (default ${DEFAULT-VALUE}).")
    String policy;

    @Option(names = "--json", description = "Print one JSON object per policy and capacity:"
            + " {\"policy\":..,\"hitRate\":..,\"belady\":..,\"ratio\":..}.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<String> policies = policy.equalsIgnoreCase("all") ? Policies.NAMES
                : List.of(Policies.create(policy, 1).name()); // fails on a bad name before reading the trace
        RoutingTrace t = RoutingTrace.read(trace);
        List<Integer> caps = new ArrayList<>();
        for (String c : capacities) {
            caps.add(capacity(c, t.expertCount()));
        }
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper mapper = new ObjectMapper();
        if (!json) {
            out.printf(Locale.ROOT, "%s: %d records, %d expert references, %d experts%n", trace,
                    t.records().size(), t.accesses().size(), t.expertCount());
            out.printf(Locale.ROOT, "%-14s %8s %9s %9s %7s %10s%n", "policy", "capacity", "hit rate", "belady", "ratio",
                    "ns/access");
        }
        for (int cap : caps) {
            for (String p : policies) {
                ReplayResult r = TraceReplay.replay(t, p, cap);
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("policy", p);
                    m.put("capacity", cap);
                    m.put("hitRate", r.hitRate());
                    m.put("belady", r.belady());
                    m.put("ratio", r.ratio());
                    m.put("nsPerAccess", r.nanosPerAccess());
                    out.println(mapper.writeValueAsString(m));
                } else {
                    out.printf(Locale.ROOT, "%-14s %8d %8.2f%% %8.2f%% %7.3f %10.0f%n", p, cap, 100 * r.hitRate(),
                            100 * r.belady(), r.ratio(), r.nanosPerAccess());
                }
            }
        }
        out.flush();
        return 0;
    }

    /** {@code N} experts, or {@code P%} of {@code experts} (rounded, at least 1). */
    private int capacity(String text, int experts) {
        String s = text.strip();
        try {
            if (s.endsWith("%")) {
                double pct = Double.parseDouble(s.substring(0, s.length() - 1));
                if (pct > 0 && pct <= 100) {
                    return (int) Math.max(1, Math.round(experts * pct / 100));
                }
            } else {
                int n = Integer.parseInt(s);
                if (n >= 1) {
                    return n;
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ParameterException(spec.commandLine(), "--capacity: '" + text
                + "' is neither a positive number of experts nor a percentage in (0, 100]");
    }
}
