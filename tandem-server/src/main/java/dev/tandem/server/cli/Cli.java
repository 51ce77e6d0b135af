package dev.tandem.server.cli;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import picocli.CommandLine;

/**
 * Runs one CLI invocation: parses the arguments (picocli), runs the command, and turns every failure into a message
 * and an exit code (0 ok, 1 drift found, 2 bad input, 3 bad state, 4 source problem, 5 target problem). A
 * {@link TandemException} prints its message, never a stack trace; anything else is a bug and says so.
 */
public final class Cli {
    private Cli() {
    }

    /** Exit code for a bug in Tandem (a stack trace is printed: please report it). */
    public static final int INTERNAL_ERROR = ErrorCode.INTERNAL.exitCode();

    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        PrintWriter o = new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        CommandLine cl = new CommandLine(new TandemCommand(env), new EnvFactory(env));
        cl.setOut(o);
        cl.setErr(e);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("error: " + ex.getMessage());
            if (ex instanceof CommandLine.UnmatchedArgumentException u) {
                CommandLine.UnmatchedArgumentException.printSuggestions(u, cmd.getErr()); // picocli's "Did you mean"
            }
            cmd.getErr().println("run 'tandem " + (cmd.getCommandName().equals("tandem") ? ""
                    : cmd.getCommandName() + " ") + "--help' for usage");
            return ErrorCode.BAD_INPUT.exitCode();
        });
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (ex instanceof TandemException te) {
                cmd.getErr().println("error: " + te.getMessage());
                return te.code().exitCode();
            }
            cmd.getErr().println("internal error (a bug in Tandem; please report it with the trace below): " + ex);
            ex.printStackTrace(cmd.getErr());
            return INTERNAL_ERROR;
        });
        int code = cl.execute(args);
        o.flush();
        e.flush();
        return code;
    }

    /** Hands the process environment to commands that need it (tests pass their own). */
    private record EnvFactory(Map<String, String> env) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            for (var ctor : cls.getDeclaredConstructors()) {
                if (ctor.getParameterCount() == 1 && ctor.getParameterTypes()[0] == Map.class) {
                    ctor.setAccessible(true);
                    return cls.cast(ctor.newInstance(env));
                }
            }
            return CommandLine.defaultFactory().create(cls);
        }
    }
}
