package dev.tandem.router;

import java.util.function.Supplier;
import javax.sql.DataSource;

/** What the logical connections of one {@link RoutingDataSource} share: the two pools, the policy, gate, stats. */
record RoutingParts(DataSource source, DataSource target, Supplier<RoutingPolicy> policy, WriteGate gate,
                    RouterStats stats, ShadowReads shadows) {
}
