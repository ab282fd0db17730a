package io.strata.loader.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.strata.core.model.ExpertId;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * A routing trace: JSON lines {@code {"step":0,"layer":3,"token":0,"experts":[5,1],"weights":[..]}}, or a
 * reference.json whose {@code trace} field is an array of such objects. Each record's experts are referenced
 * in order.
 */
public final class RoutingTrace {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<RoutingRecord> records;

    public RoutingTrace(List<RoutingRecord> records) {
        this.records = List.copyOf(records);
    }

    public List<RoutingRecord> records() {
        return records;
    }

    /** The expert references in order, with their router weights. */
    public List<Access> accesses() {
        List<Access> out = new ArrayList<>();
        for (RoutingRecord r : records) {
            for (int i = 0; i < r.experts().length; i++) {
                out.add(new Access(new ExpertId(r.layer(), r.experts()[i]), r.weight(i)));
            }
        }
        return out;
    }

    /**
     * All the experts the trace's model has, as far as the trace shows: distinct layers x (largest expert id +
     * 1). The base of percentage capacities.
     */
    public int expertCount() {
        BitSet layers = new BitSet();
        int experts = 0;
        for (RoutingRecord r : records) {
            layers.set(r.layer());
            for (int e : r.experts()) {
                experts = Math.max(experts, e + 1);
            }
        }
        return layers.cardinality() * experts;
    }

    public record Access(ExpertId id, double weight) {
    }

    public static RoutingTrace read(Path file) {
        List<RoutingRecord> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String first = null;
            String line;
            int lineNo = 0;
            StringBuilder whole = new StringBuilder();
            boolean jsonLines = true;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (first == null && !line.isBlank()) {
                    first = line.strip();
                    jsonLines = first.startsWith("{") && first.endsWith("}") && !first.contains("\"trace\"");
                }
                if (!jsonLines) {
                    whole.append(line).append('\n');
                } else if (!line.isBlank()) {
                    out.add(parse(JSON.readTree(line), file + ":" + lineNo));
                }
            }
            if (!jsonLines) {
                JsonNode trace = JSON.readTree(whole.toString()).path("trace");
                if (!trace.isArray()) {
                    throw new IllegalArgumentException(file + ": neither JSON lines nor a JSON object with a 'trace' array");
                }
                int i = 0;
                for (JsonNode n : trace) {
                    out.add(parse(n, file + ": trace[" + i++ + "]"));
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read trace: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + ": trace has no records");
        }
        return new RoutingTrace(out);
    }

    private static RoutingRecord parse(JsonNode n, String where) {
        JsonNode experts = n.get("experts");
        if (!n.has("layer") || experts == null || !experts.isArray()) {
            throw new IllegalArgumentException(where + ": record needs 'layer' and an 'experts' array");
        }
        int[] e = new int[experts.size()];
        for (int i = 0; i < e.length; i++) {
            e[i] = experts.get(i).asInt();
        }
        double[] w = null;
        JsonNode weights = n.get("weights");
        if (weights != null && weights.isArray()) {
            w = new double[weights.size()];
            for (int i = 0; i < w.length; i++) {
                w[i] = weights.get(i).asDouble();
            }
        }
        int layer = n.get("layer").asInt();
        if (layer < 0) {
            throw new IllegalArgumentException(where + ": negative layer " + layer);
        }
        return new RoutingRecord(n.path("step").asInt(), layer, n.path("token").asInt(), e, w);
    }
}
