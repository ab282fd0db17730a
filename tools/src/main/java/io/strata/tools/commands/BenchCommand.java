package io.strata.tools.commands;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code strata bench}: a group of benchmarks, each reporting ratios against a baseline from the same run. */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        header = "Run a benchmark; each reports ratios against a baseline measured in the same run.",
        description = {
                "Runs a benchmark. Each one measures its baseline in the same run and reports ratios against it."},
        subcommands = {BenchConvertCommand.class, BenchPageInCommand.class, BenchDecodeCommand.class,
                BenchKvCommand.class, BenchHashCommand.class, BenchFetchCommand.class, BenchCudaCommand.class,
                BenchQuantCommand.class, BenchComputeCommand.class, BenchPagingCommand.class})
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
