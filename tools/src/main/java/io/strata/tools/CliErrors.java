package io.strata.tools;

import picocli.CommandLine;

/**
 * Turns exceptions into one clear line on stderr and a non-zero exit. Domain errors already name the file,
 * field and reason; anything else is unexpected, so its stack trace is printed only with STRATA_DEBUG=1.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
    static final int EXIT_FAILURE = 1;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        cl.getErr().println("strata " + cl.getCommandName() + ": error: " + msg);
        if (System.getenv("STRATA_DEBUG") != null) {
            ex.printStackTrace(cl.getErr());
        }
        return EXIT_FAILURE;
    }
}
