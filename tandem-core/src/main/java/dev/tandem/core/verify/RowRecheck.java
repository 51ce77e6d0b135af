package dev.tandem.core.verify;

import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.Role;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.store.DriftKind;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The lag-aware recheck of rows found different while a change stream runs (DESIGN.md correctness point 5). Each
 * suspect carries the source hash it had when last read. A round waits until the target caught up with the source
 * (everything committed before the wait began is applied), then reads the suspects on the target and only then on
 * the source:
 * <ul>
 *   <li>equal now: the difference was a change in flight; resolved;</li>
 *   <li>still different and the source row is as it was when last read: a strike; {@link #STRIKES} strikes in a row
 *       confirm drift (the target applied every change made up to a point after that read and still differs);</li>
 *   <li>the source row changed meanwhile: suspect again, with the new source hash, strikes reset.</li>
 * </ul>
 * Rows still open after the last round are reported as in flight, never as drift. Reading the target before the
 * source matters: a source change after the target read can only make the source differ from its earlier hash.
 * Why two strikes: a hash cannot tell a row that did not change from one that changed and changed back (A, B, A).
 * If the source goes to B after the fence, the target applies B before its read, and the source returns to A before
 * its read, one round would confirm a difference that is only in flight — {@code LiveVerifyIT} saw this with
 * transfers of equal amounts under two busy writers. A second round whose fence is written after that source read
 * needs the same coincidence again.
 */
final class RowRecheck {
    static final int ROUNDS = 4;
    /** Rechecks in a row that must find the same difference, with the source row unchanged, to confirm it. */
    static final int STRIKES = 2;
    private static final int BATCH = 500;

    private RowRecheck() {
    }

    /** One side of a comparison; what fails on it fails as a {@link SideFailure} naming the side. */
    record Side(Connection connection, Checksums sums, TableInfo table, List<String> columns, Role role) {
        /** Hashes of the rows with these keys, by key (rows missing on this side are absent from the map). */
        Map<List<String>, Long> hashes(Collection<List<String>> keys) throws SideFailure {
            Map<List<String>, Long> out = new HashMap<>();
            List<List<String>> batch = new ArrayList<>(Math.min(BATCH, keys.size()));
            try {
                for (List<String> k : keys) {
                    batch.add(k);
                    if (batch.size() == BATCH) {
                        sums.hashesOf(connection, table, columns, batch, out::put);
                        batch.clear();
                    }
                }
                sums.hashesOf(connection, table, columns, batch, out::put);
            } catch (SQLException e) {
                throw new SideFailure(role, e);
            }
            return out;
        }

        Checksums.RangeChecksum checksum(KeyRange range) throws SideFailure {
            try {
                return sums.checksum(connection, table, columns, range);
            } catch (SQLException e) {
                throw new SideFailure(role, e);
            }
        }

        void rowHashes(KeyRange range, Checksums.RowHashSink sink) throws SideFailure {
            try {
                sums.rowHashes(connection, table, columns, range, sink);
            } catch (SideFailure e) {
                throw e;
            } catch (SQLException e) {
                throw new SideFailure(role, e);
            }
        }

        Optional<Checksums.Row> row(List<String> key) throws SideFailure {
            try {
                return sums.row(connection, table, columns, key);
            } catch (SQLException e) {
                throw new SideFailure(role, e);
            }
        }
    }

    /** A database error on one side of a comparison: the source's or the target's (exit code 4 or 5). */
    static final class SideFailure extends SQLException {
        private final Role role;

        SideFailure(Role role, SQLException cause) {
            super(cause.getMessage(), cause.getSQLState(), cause.getErrorCode(), cause);
            this.role = role;
        }

        Role role() {
            return role;
        }
    }

    /**
     * A row that differed: its key (in the databases' text form), and its hashes when last read (null: no such
     * row on that side).
     */
    record Suspect(List<String> key, Long sourceHash, Long targetHash) {
        DriftKind kind() {
            return sourceHash == null ? DriftKind.EXTRA_ON_TARGET : targetHash == null ? DriftKind.MISSING_ON_TARGET
                    : DriftKind.MISMATCH;
        }
    }

    /**
     * @param confirmed  drift, with the hashes of the confirming read
     * @param resolved   suspects found equal (changes that were in flight)
     * @param inFlight   suspects still changing after the last round, or not rechecked because the target did not
     *                   catch up in time
     * @param whyInFlight null, or why suspects could not be rechecked
     */
    record Outcome(List<Suspect> confirmed, long resolved, long inFlight, String whyInFlight) {
    }

    /** Confirms or clears {@code suspects}; the target side is read before the source side in every round. */
    static Outcome recheck(List<Suspect> suspects, Side source, Side target, CaughtUp caughtUp, Duration timeout)
            throws SQLException, InterruptedException {
        List<Suspect> confirmed = new ArrayList<>();
        List<Suspect> open = suspects;
        Map<List<String>, Integer> strikes = new HashMap<>();
        long resolved = 0;
        for (int round = 0; round < ROUNDS && !open.isEmpty(); round++) {
            if (!caughtUp.await(timeout)) {
                return new Outcome(confirmed, resolved, open.size(), caughtUp.why(timeout));
            }
            List<List<String>> keys = open.stream().map(Suspect::key).toList();
            Map<List<String>, Long> t = target.hashes(keys);
            Map<List<String>, Long> s = source.hashes(keys);
            List<Suspect> next = new ArrayList<>();
            for (Suspect sp : open) {
                Long th = t.get(sp.key());
                Long sh = s.get(sp.key());
                if (Objects.equals(th, sh)) {
                    resolved++;
                    strikes.remove(sp.key());
                } else if (Objects.equals(sh, sp.sourceHash())
                        && strikes.merge(sp.key(), 1, Integer::sum) >= STRIKES) {
                    confirmed.add(new Suspect(sp.key(), sh, th));
                } else {
                    if (!Objects.equals(sh, sp.sourceHash())) {
                        strikes.remove(sp.key());
                    }
                    next.add(new Suspect(sp.key(), sh, th));
                }
            }
            open = next;
        }
        return new Outcome(confirmed, resolved, open.size(), null);
    }

    /**
     * Compares rows by key on both sides (target first) and returns those that differ, as suspects carrying the
     * hashes just read. Keys are taken as the databases print them, so the caller's text forms need not match.
     */
    static List<Suspect> compare(Collection<List<String>> keys, Side source, Side target) throws SQLException {
        Map<List<String>, Long> t = target.hashes(keys);
        Map<List<String>, Long> s = source.hashes(keys);
        List<Suspect> out = new ArrayList<>();
        s.forEach((k, sh) -> {
            Long th = t.remove(k);
            if (!sh.equals(th)) {
                out.add(new Suspect(k, sh, th));
            }
        });
        t.forEach((k, th) -> out.add(new Suspect(k, null, th)));
        return out;
    }
}
