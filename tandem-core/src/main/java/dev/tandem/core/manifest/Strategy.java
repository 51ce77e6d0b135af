package dev.tandem.core.manifest;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Seed 002's nine traffic strategies with their parameters, exactly as named there. Where a strategy routes a
 * subset of traffic to the target (canary, rolling update, strangler fig, feature flag, geographic) it may carry a
 * {@link WriteMode}; null means writes stay on the source until cutover and reach the target through the stream.
 */
public sealed interface Strategy {

    Type type();

    enum Type {
        BIG_BANG,
        CANARY,
        BLUE_GREEN,
        ROLLING_UPDATE,
        SHADOW_TRAFFIC,
        STRANGLER_FIG,
        FEATURE_FLAG,
        GEOGRAPHIC,
        TIME_WINDOW
    }

    /** Immediate cutover: all traffic switches at once. */
    record BigBang() implements Strategy {
        public Type type() {
            return Type.BIG_BANG;
        }
    }

    /** A fraction of reads goes to the target. */
    record Canary(double readPercentage, WriteMode writeMode) implements Strategy {
        public Type type() {
            return Type.CANARY;
        }
    }

    /** Two environments; {@code activeIsNew} picks which one takes all traffic. */
    record BlueGreen(boolean activeIsNew) implements Strategy {
        public Type type() {
            return Type.BLUE_GREEN;
        }
    }

    /** Application instances move one by one. */
    record RollingUpdate(List<String> migratedInstances, int totalInstances, WriteMode writeMode) implements Strategy {
        public RollingUpdate {
            migratedInstances = List.copyOf(migratedInstances);
        }

        public Type type() {
            return Type.ROLLING_UPDATE;
        }
    }

    /** Requests are repeated on the target and compared; responses always come from the source. */
    record ShadowTraffic() implements Strategy {
        public Type type() {
            return Type.SHADOW_TRAFFIC;
        }
    }

    /** Feature by feature: a feature mapped to true uses the target. */
    record StranglerFig(Map<String, Boolean> features, WriteMode writeMode) implements Strategy {
        public StranglerFig {
            features = Map.copyOf(features);
        }

        public Type type() {
            return Type.STRANGLER_FIG;
        }
    }

    /** Flags per user segment; {@code rolloutPercentage} of users see the enabled flags. */
    record FeatureFlag(Map<String, Boolean> flags, double rolloutPercentage, WriteMode writeMode) implements Strategy {
        public FeatureFlag {
            flags = Map.copyOf(flags);
        }

        public Type type() {
            return Type.FEATURE_FLAG;
        }
    }

    /** Region by region: a region mapped to true uses the target. */
    record Geographic(Map<String, Boolean> regions, WriteMode writeMode) implements Strategy {
        public Geographic {
            regions = Map.copyOf(regions);
        }

        public Type type() {
            return Type.GEOGRAPHIC;
        }
    }

    /** The cutover runs only inside {@code [windowStart, windowEnd)}. */
    record TimeWindow(Instant windowStart, Instant windowEnd, boolean executed) implements Strategy {
        public Type type() {
            return Type.TIME_WINDOW;
        }

        /** The one rule of a time window: the cutover may run at {@code now} when it is inside [start, end). */
        public boolean allows(Instant now) {
            return (windowStart == null || !now.isBefore(windowStart)) && (windowEnd == null || now.isBefore(windowEnd));
        }
    }
}
