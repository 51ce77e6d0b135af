package dev.tandem.server.cli;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * Ctrl-C (SIGINT) and SIGTERM for long-running commands. The first signal asks the command to stop cleanly while
 * the JVM keeps running, so the stop is recorded (chunks in flight rolled back and marked, the migration paused);
 * a second one exits at once. Without this, the JVM would start shutting down on the first signal and the embedded
 * control store would close under the command's feet.
 * <p>Uses {@code sun.misc.Signal} (module jdk.unsupported, present in every JDK since 9) through reflection, so the
 * build does not warn about an internal API; where it is missing, a signal simply ends the JVM as usual, which the
 * tracked runs survive too (a rerun with --prev-run redoes what was in flight).
 */
final class Interrupts implements AutoCloseable {
    private final List<Object[]> previous = new ArrayList<>();
    private volatile boolean signalled;

    private Interrupts() {
    }

    /** Runs {@code onFirst} on a new thread at the first SIGINT or SIGTERM; exits with 130 at the second. */
    static Interrupts install(Runnable onFirst) {
        Interrupts i = new Interrupts();
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            Method handle = signal.getMethod("handle", signal, handler);
            InvocationHandler h = (proxy, method, args) -> {
                if (!method.getName().equals("handle")) {
                    return method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                            : method.getName().equals("equals") ? proxy == args[0] : "tandem-signal-handler";
                }
                if (i.signalled) {
                    Runtime.getRuntime().halt(130);
                }
                i.signalled = true;
                Thread t = new Thread(onFirst, "tandem-stop");
                t.setDaemon(true);
                t.start();
                return null;
            };
            Object ours = Proxy.newProxyInstance(Interrupts.class.getClassLoader(), new Class<?>[] {handler}, h);
            for (String name : new String[] {"INT", "TERM"}) {
                Object sig = signal.getConstructor(String.class).newInstance(name);
                i.previous.add(new Object[] {sig, handle.invoke(null, sig, ours)});
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // No sun.misc.Signal: the default behaviour (the JVM exits) is still safe.
        }
        return i;
    }

    /** Puts the previous handlers back. */
    @Override
    public void close() {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            Method handle = signal.getMethod("handle", signal, handler);
            for (Object[] p : previous) {
                handle.invoke(null, p[0], p[1]);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // nothing to restore
        }
    }
}
