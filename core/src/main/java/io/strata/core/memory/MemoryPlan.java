package io.strata.core.memory;

import io.strata.core.util.Sizes;
import java.util.Locale;

/**
 * Bytes one device needs (the largest pipeline stage), whether it fits its memory, and how many experts per
 * layer each tier can hold. All sizes in bytes.
 */
public record MemoryPlan(ModelShape shape, Parallelism par, int batch, int seq, long deviceMem, long hostMem,
                         int layersPerDevice, int expertsPerDevice, long denseBytes, long expertBytes,
                         long expertBytesEach, long kvBytes, long activationBytes, long commBytes,
                         int deviceExpertsPerLayer, int hostExpertsPerLayer) {

    /** Everything a device needs to hold the whole (per-device) model resident. */
    public long totalBytes() {
        return Sizes.plus(denseBytes, expertBytes, kvBytes, activationBytes, commBytes);
    }

    public boolean fitsOnDevice() {
        return totalBytes() <= deviceMem;
    }

    /** Dense weights, KV, activations and buffers fit, so experts can be paged through the rest. */
    public boolean runsWithPaging() {
        return Sizes.plus(denseBytes, kvBytes, activationBytes, commBytes) <= deviceMem
                && (deviceExpertsPerLayer + hostExpertsPerLayer >= shape.topK() || deviceExpertsPerLayer >= shape.topK());
    }

    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "devices: %d (tp %d x ep %d x pp %d x dp %d); per device: %d layers, "
                        + "%d experts per layer, batch %d x seq %d%n", par.devices(), par.tp(), par.ep(), par.pp(),
                par.dp(), layersPerDevice, expertsPerDevice, batch, seq));
        row(sb, "dense weights", denseBytes);
        row(sb, "experts", expertBytes);
        row(sb, "kv cache", kvBytes);
        row(sb, "activations", activationBytes);
        row(sb, "comm buffers", commBytes);
        row(sb, "total", totalBytes());
        sb.append(String.format(Locale.ROOT, "%-14s %12s%n", "device memory", Sizes.format(deviceMem)));
        sb.append(fitsOnDevice() ? "fits: yes, everything resident on the device\n"
                : "fits: no" + (runsWithPaging() ? ", runs with expert paging" : ", not even with expert paging")
                + "\n");
        sb.append(String.format(Locale.ROOT, "one expert slice: %s; experts per layer: device %d, host %d (%s),"
                        + " disk/peer the rest (%d)%n", Sizes.format(expertBytesEach), deviceExpertsPerLayer,
                hostExpertsPerLayer, Sizes.format(hostMem),
                Math.max(0, expertsPerDevice - deviceExpertsPerLayer - hostExpertsPerLayer)));
        return sb.toString();
    }

    private static void row(StringBuilder sb, String what, long bytes) {
        if (Sizes.saturated(bytes)) {
            sb.append(String.format(Locale.ROOT, "%-14s %12s %16s%n", what, "> 8 EiB", "(overflows 64 bits)"));
        } else {
            sb.append(String.format(Locale.ROOT, "%-14s %12s %16d B%n", what, Sizes.format(bytes), bytes));
        }
    }
}
