package io.strata.tools;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code strata} command: one subcommand per job. */
@Command(name = "strata",
        mixinStandardHelpOptions = true,
        versionProvider = StrataCli.Version.class,
        description = {
                "Strata pages the weights of Mixture-of-Experts models through device memory, host memory,",
                "a local disk cache and a peer mesh, so that models larger than memory run."},
        subcommands = {
                io.strata.tools.commands.DemoCommand.class,
                io.strata.tools.commands.RunCommand.class,
                io.strata.tools.commands.ScoreCommand.class,
                io.strata.tools.commands.ChatCommand.class,
                io.strata.tools.commands.ServeCommand.class,
                io.strata.tools.commands.ShardConvertCommand.class,
                io.strata.tools.commands.VerifyCommand.class,
                io.strata.tools.commands.InspectCommand.class,
                io.strata.tools.commands.PlanCommand.class,
                io.strata.tools.commands.TraceReplayCommand.class,
                io.strata.tools.commands.PeerCommand.class,
                io.strata.tools.commands.FetchCommand.class,
                io.strata.tools.commands.TokenizeCommand.class,
                io.strata.tools.commands.BenchCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class StrataCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        // One line per log record ("strata: INFO: ..."), not java.util.logging's two-line default.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "strata: %4$s: %5$s%6$s%n");
        }
        // Model text is UTF-8 whatever the locale says (a C-locale terminal would otherwise print '?' for it).
        CommandLine cl = commandLine();
        cl.setOut(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.out,
                java.nio.charset.StandardCharsets.UTF_8), true));
        cl.setErr(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.err,
                java.nio.charset.StandardCharsets.UTF_8), true));
        int code = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        System.exit(code);
    }

    /** The configured command line; tests execute commands through it in-process. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new StrataCli());
        cl.setUsageHelpWidth(110); // descriptions are laid out for ~100 columns
        cl.setUsageHelpAutoWidth(true); // wider when the terminal says so
        cl.setExecutionExceptionHandler(new CliErrors());
        return cl;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"strata 0.1.0-SNAPSHOT (Java " + Runtime.version() + ")"};
        }
    }
}
