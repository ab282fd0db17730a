package io.strata.core.model;

/** One expert of one MoE layer. */
public record ExpertId(int layer, int expert) implements Comparable<ExpertId> {
    public ExpertId {
        if (layer < 0 || expert < 0) {
            throw new IllegalArgumentException("negative layer/expert: " + layer + "/" + expert);
        }
    }

    /** The manifest group name, {@code expert.L.E}. */
    public String groupName() {
        return "expert." + layer + "." + expert;
    }

    @Override
    public int compareTo(ExpertId o) {
        int c = Integer.compare(layer, o.layer);
        return c != 0 ? c : Integer.compare(expert, o.expert);
    }

    @Override
    public String toString() {
        return "L" + layer + "/E" + expert;
    }
}
