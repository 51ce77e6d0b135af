package dev.tandem.bench;

/**
 * Entry point: {@code Bench backfill ROWS PARALLELISM}, {@code Bench mariadb-copy ROWS PARALLELISM},
 * {@code Bench mariadb-mariadb ROWS PARALLELISM}, {@code Bench binlog CHANGES},
 * {@code Bench cdc CHANGES},
 * {@code Bench verify ROWS PARALLELISM}, {@code Bench router} or {@code Bench cutover} (these two read
 * {@code tandem.bench.seconds}, {@code tandem.bench.tps}, {@code tandem.bench.threads}). Each benchmark measures
 * Tandem and the raw limit in the same run on the same databases and prints both rates and their ratio. Benchmarks
 * are not tests: nothing here asserts a time.
 */
public final class Bench {
    private Bench() {
    }

    /** {@code -Dtandem.bench.NAME} (the pom's {@code -DNAME}); empty means the benchmark's default. */
    private static int number(String name, int byDefault) {
        String v = System.getProperty("tandem.bench." + name, "").trim();
        if (v.isEmpty()) {
            return byDefault;
        }
        try {
            int n = Integer.parseInt(v);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        System.err.println("-D" + name + "=" + v + ": not a positive whole number; give e.g. -D" + name + "="
                + byDefault + ", or leave it out for " + byDefault);
        System.exit(2);
        return byDefault;
    }

    public static void main(String[] args) throws Exception {
        String which = args.length > 0 ? args[0] : "backfill";
        long rows = args.length > 1 ? Long.parseLong(args[1]) : 5_000_000;
        int parallelism = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        switch (which) {
            case "backfill" -> new BackfillBench(rows, parallelism).run();
            case "cdc" -> new CdcBench(rows).run();
            case "verify" -> new VerifyBench(rows, parallelism).run();
            case "mariadb-copy" -> new MariaDbCopyBench(rows, parallelism).run();
            case "mariadb-mariadb" -> new MariaDbToMariaDbBench(rows, parallelism).run();
            case "binlog" -> new BinlogApplyBench(rows).run();
            case "router" -> new RouterBench(number("seconds", 10), number("threads", 4)).run();
            case "cutover" -> new CutoverBench(number("tps", 3000), number("threads", 24)).run();
            default -> {
                System.err.println("unknown benchmark '" + which + "'; known: backfill, cdc, verify, "
                        + "mariadb-copy, mariadb-mariadb, binlog, router, cutover");
                System.exit(2);
            }
        }
    }
}
