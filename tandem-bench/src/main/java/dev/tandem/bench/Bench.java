package dev.tandem.bench;

/**
 * Entry point: {@code Bench backfill ROWS PARALLELISM}, {@code Bench cdc CHANGES},
 * {@code Bench verify ROWS PARALLELISM}, {@code Bench router} or {@code Bench cutover} (these two read
 * {@code tandem.bench.seconds}, {@code tandem.bench.tps}, {@code tandem.bench.threads}). Each benchmark measures
 * Tandem and the raw limit in the same run on the same databases and prints both rates and their ratio. Benchmarks
 * are not tests: nothing here asserts a time.
 */
public final class Bench {
    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        String which = args.length > 0 ? args[0] : "backfill";
        long rows = args.length > 1 ? Long.parseLong(args[1]) : 5_000_000;
        int parallelism = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        switch (which) {
            case "backfill" -> new BackfillBench(rows, parallelism).run();
            case "cdc" -> new CdcBench(rows).run();
            case "verify" -> new VerifyBench(rows, parallelism).run();
            case "router" -> new RouterBench(Integer.getInteger("tandem.bench.seconds", 10),
                    Integer.getInteger("tandem.bench.threads", 4)).run();
            case "cutover" -> new CutoverBench(Integer.getInteger("tandem.bench.tps", 3000),
                    Integer.getInteger("tandem.bench.threads", 24)).run();
            default -> {
                System.err.println("unknown benchmark '" + which + "'; known: backfill, cdc, verify, router, "
                        + "cutover");
                System.exit(2);
            }
        }
    }
}
