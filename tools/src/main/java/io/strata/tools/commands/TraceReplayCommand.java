package io.strata.tools.commands;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.loader.policy.Policies;
import io.strata.loader.trace.ReplayResult;
import io.strata.loader.trace.RoutingTrace;
import io.strata.loader.trace.TraceReplay;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
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
                "  caches use: lru, lfu, tinylfu (Caffeine's W-TinyLFU), moe (Strata's expected-reuse-distance",
                "  policy), or all."},
        parameterListHeading = "%nARGUMENTS%n",
        optionListHeading = "%nOPTIONS%n",
        exitCodeListHeading = "%nEXIT STATUS%n",
        exitCodeList = {"0:replayed", "1:the trace is missing or malformed", "2:bad usage"},
        footerHeading = "%nEXAMPLE%n",
        footer = "  strata trace-replay trace.jsonl --capacity 64 --policy all")
public final class TraceReplayCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TRACE", description = "Routing trace (JSON lines or reference.json).")
    Path trace;

    @Option(names = "--capacity", required = true, split = ",", paramLabel = "N",
            description = "Cache capacity in experts across all layers; several may be given: 32,64,128.")
    List<Integer> capacities;

    @Option(names = "--policy", defaultValue = "moe", paramLabel = "P",
            description = "lru, lfu, tinylfu, moe or all (default ${DEFAULT-VALUE}).")
    String policy;

    @Option(names = "--json", description = "Print one JSON object per policy and capacity:"
            + " {\"policy\":..,\"hitRate\":..,\"belady\":..,\"ratio\":..}.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<String> policies = policy.equalsIgnoreCase("all") ? Policies.NAMES : List.of(policy);
        for (String p : policies) {
            Policies.create(p, 1); // fail on a bad name before reading the trace
        }
        RoutingTrace t = RoutingTrace.read(trace);
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper mapper = new ObjectMapper();
        if (!json) {
            out.printf(Locale.ROOT, "%s: %d records, %d expert references%n", trace, t.records().size(),
                    t.accesses().size());
            out.printf(Locale.ROOT, "%-8s %8s %9s %9s %7s%n", "policy", "capacity", "hit rate", "belady", "ratio");
        }
        for (int cap : capacities) {
            for (String p : policies) {
                ReplayResult r = TraceReplay.replay(t, p, cap);
                if (json) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("policy", p);
                    m.put("capacity", cap);
                    m.put("hitRate", r.hitRate());
                    m.put("belady", r.belady());
                    m.put("ratio", r.ratio());
                    out.println(mapper.writeValueAsString(m));
                } else {
                    out.printf(Locale.ROOT, "%-8s %8d %8.2f%% %8.2f%% %7.3f%n", p, cap, 100 * r.hitRate(),
                            100 * r.belady(), r.ratio());
                }
            }
        }
        out.flush();
        return 0;
    }
}
