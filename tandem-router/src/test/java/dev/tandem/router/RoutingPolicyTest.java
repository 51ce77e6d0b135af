package dev.tandem.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Every strategy's decisions, from seed 002's JSON examples as written there. */
class RoutingPolicyTest {
    private static final int USERS = 20_000;

    private static RoutingPolicy policy(String json) {
        return new RoutingPolicy(RoutingState.parse(json), "i-2", "m1");
    }

    private static double shareToTarget(RoutingPolicy p, String feature) {
        int target = 0;
        for (int u = 0; u < USERS; u++) {
            if (p.reads(new TandemContext("user-" + u, feature, null)) == Side.TARGET) {
                target++;
            }
        }
        return target / (double) USERS;
    }

    @Test
    void canaryRoutesItsShareOfUsersAndEachUserStaysOnOneSide() {
        RoutingPolicy p5 = policy("""
                {"strategy": {"type": "canary", "read_percentage": 0.05,
                  "write_mode": {"mode": "dual_write", "policy": "old_authoritative"}}}""");
        assertThat(shareToTarget(p5, null)).isBetween(0.04, 0.06);
        RoutingPolicy p25 = policy("""
                {"strategy": {"type": "canary", "read_percentage": 0.25,
                  "write_mode": {"mode": "dual_write", "policy": "old_authoritative"}}}""");
        assertThat(shareToTarget(p25, null)).isBetween(0.23, 0.27);
        for (int u = 0; u < USERS; u++) {
            TandemContext ctx = new TandemContext("user-" + u, null, null);
            assertThat(p5.reads(ctx)).as("the same user, the same side").isEqualTo(p5.reads(ctx));
            if (p5.reads(ctx) == Side.TARGET) {
                assertThat(p25.reads(ctx)).as("a user on the target stays there as the share grows")
                        .isEqualTo(Side.TARGET);
            }
        }
        assertThat(p5.writes()).as("dual_write: the source runs it, the stream copies it").isEqualTo(Side.SOURCE);
        assertThat(p5.shadowReads(TandemContext.NONE)).isFalse();
    }

    @Test
    void everyWriteModeKeepsWritesOnTheSourceUntilTheCutoverFlips() {
        for (String mode : new String[] {"{\"mode\": \"dual_write\", \"policy\": \"new_authoritative\"}",
                "{\"mode\": \"cutover\", \"write_percentage\": 1.0}",
                "{\"mode\": \"cutover\", \"write_percentage\": 0.5}"}) {
            RoutingPolicy before = policy("{\"type\": \"canary\", \"read_percentage\": 1.0, \"write_mode\": "
                    + mode + "}");
            assertThat(shareToTarget(before, null)).isEqualTo(1.0);
            assertThat(before.writes()).as(mode).isEqualTo(Side.SOURCE);
            RoutingPolicy after = policy("{\"epoch\": 9, \"cut_over\": true, \"strategy\": {\"type\": \"canary\", "
                    + "\"read_percentage\": 0.5, \"write_mode\": " + mode + "}}");
            assertThat(after.writes()).as(mode).isEqualTo(Side.TARGET);
        }
        RoutingPolicy readsOnly = policy("{\"type\": \"canary\", \"read_percentage\": 0.5}");
        assertThat(readsOnly.writes()).isEqualTo(Side.SOURCE);
    }

    @Test
    void blueGreenSwitchesEverything() {
        RoutingPolicy blue = policy("{\"strategy\": {\"type\": \"blue_green\", \"active_is_new\": false}}");
        RoutingPolicy green = policy("{\"strategy\": {\"type\": \"blue_green\", \"active_is_new\": true}}");
        assertThat(shareToTarget(blue, null)).isZero();
        assertThat(blue.writes()).isEqualTo(Side.SOURCE);
        assertThat(shareToTarget(green, null)).isEqualTo(1.0);
        assertThat(green.writes()).as("writes move at the cutover").isEqualTo(Side.SOURCE);
    }

    @Test
    void rollingUpdateMovesTheListedInstances() {
        String json = "{\"strategy\": {\"type\": \"rolling_update\", \"migrated_instances\": [\"i-1\", \"i-2\"], "
                + "\"total_instances\": 5}}";
        assertThat(new RoutingPolicy(RoutingState.parse(json), "i-2", "m1").reads(TandemContext.NONE))
                .isEqualTo(Side.TARGET);
        assertThat(new RoutingPolicy(RoutingState.parse(json), "i-3", "m1").reads(TandemContext.NONE))
                .isEqualTo(Side.SOURCE);
        RoutingPolicy none = policy("""
                {"strategy": {"type": "rolling_update", "migrated_instances": [], "total_instances": 5}}""");
        assertThat(none.reads(TandemContext.NONE)).isEqualTo(Side.SOURCE);
        assertThat(none.writes()).isEqualTo(Side.SOURCE);
    }

    @Test
    void shadowTrafficServesTheSourceAndComparesOnTheTarget() {
        RoutingPolicy p = policy("{\"strategy\": {\"type\": \"shadow_traffic\"}}");
        assertThat(shareToTarget(p, null)).isZero();
        assertThat(p.shadowReads(TandemContext.NONE)).isTrue();
        assertThat(p.writes()).isEqualTo(Side.SOURCE);
    }

    @Test
    void anyStrategyShadowsItsSampleOfReadsOnceTheTargetIsReady() {
        RoutingPolicy canary = policy("{\"shadow_read_sample\": 0.25, \"strategy\": {\"type\": \"canary\", "
                + "\"read_percentage\": 0.5}}");
        int shadowed = 0;
        for (int i = 0; i < 20_000; i++) {
            if (canary.shadowReads(TandemContext.NONE)) {
                shadowed++;
            }
        }
        assertThat(shadowed / 20_000.0).isBetween(0.22, 0.28);
        assertThat(policy("{\"strategy\": {\"type\": \"canary\", \"read_percentage\": 0.5}}")
                .shadowReads(TandemContext.NONE)).as("no sample: no shadow read").isFalse();
        RoutingPolicy notReady = policy("{\"target_ready\": false, \"shadow_read_sample\": 1, \"strategy\": "
                + "{\"type\": \"big_bang\"}}");
        assertThat(notReady.shadowReads(TandemContext.NONE)).isFalse();
        RoutingPolicy cutOver = policy("{\"cut_over\": true, \"shadow_read_sample\": 1, \"strategy\": "
                + "{\"type\": \"big_bang\"}}");
        assertThat(cutOver.shadowReads(TandemContext.NONE)).isFalse();
        assertThat(policy("{\"shadow_read_sample\": 1, \"strategy\": {\"type\": \"big_bang\"}}")
                .shadowReads(TandemContext.NONE)).isTrue();
    }

    @Test
    void aMigrationWithApisShiftsOnlyTheirRequests() {
        RoutingPolicy p = policy("{\"apis\": [\"user_cache_api\"], \"strategy\": {\"type\": \"blue_green\", "
                + "\"active_is_new\": true}}");
        assertThat(p.reads(new TandemContext("u1", "user_cache_api", null))).isEqualTo(Side.TARGET);
        assertThat(p.reads(new TandemContext("u1", "billing_api", null))).isEqualTo(Side.SOURCE);
        assertThat(p.reads(TandemContext.NONE)).isEqualTo(Side.SOURCE);
        RoutingPolicy all = policy("{\"strategy\": {\"type\": \"blue_green\", \"active_is_new\": true}}");
        assertThat(all.reads(TandemContext.NONE)).as("no apis: every request").isEqualTo(Side.TARGET);
        RoutingPolicy cut = policy("{\"cut_over\": true, \"apis\": [\"a\"], \"strategy\": {\"type\": "
                + "\"big_bang\"}}");
        assertThat(cut.reads(TandemContext.NONE)).as("after the cutover everything").isEqualTo(Side.TARGET);
    }

    @Test
    void stranglerFigMovesFeatureByFeature() {
        RoutingPolicy p = policy("""
                {"strategy": {"type": "strangler_fig",
                  "features": {"user_auth": true, "payments": false, "reporting": false}}}""");
        assertThat(p.reads(new TandemContext("u", "user_auth", null))).isEqualTo(Side.TARGET);
        assertThat(p.reads(new TandemContext("u", "payments", null))).isEqualTo(Side.SOURCE);
        assertThat(p.reads(new TandemContext("u", "unknown", null))).isEqualTo(Side.SOURCE);
        assertThat(p.reads(TandemContext.NONE)).isEqualTo(Side.SOURCE);
    }

    @Test
    void featureFlagRoutesTheRolloutShareOfUsersWithAnEnabledFlag() {
        RoutingPolicy p = policy("""
                {"strategy": {"type": "feature_flag",
                  "flags": {"new_database": true, "beta_features": false},
                  "rollout_percentage": 0.25}}""");
        assertThat(shareToTarget(p, "new_database")).isBetween(0.23, 0.27);
        assertThat(shareToTarget(p, "beta_features")).isZero();
        assertThat(shareToTarget(p, null)).isZero();
    }

    @Test
    void geographicMovesRegionByRegion() {
        RoutingPolicy p = policy("""
                {"strategy": {"type": "geographic",
                  "regions": {"us-east-1": true, "eu-west-1": false, "ap-southeast-1": false}}}""");
        assertThat(p.reads(new TandemContext("u", null, "us-east-1"))).isEqualTo(Side.TARGET);
        assertThat(p.reads(new TandemContext("u", null, "eu-west-1"))).isEqualTo(Side.SOURCE);
        assertThat(p.reads(new TandemContext("u", null, null))).isEqualTo(Side.SOURCE);
    }

    @Test
    void timeWindowReadsTheSourceUntilExecuted() {
        RoutingPolicy p = policy("""
                {"strategy": {"type": "time_window", "window_start": "2024-01-15T02:00:00Z",
                  "window_end": "2024-01-15T04:00:00Z", "executed": false}}""");
        assertThat(p.reads(TandemContext.NONE)).isEqualTo(Side.SOURCE);
        RoutingPolicy done = policy("""
                {"strategy": {"type": "time_window", "window_start": "2024-01-15T02:00:00Z",
                  "window_end": "2024-01-15T04:00:00Z", "executed": true}}""");
        assertThat(done.reads(TandemContext.NONE)).isEqualTo(Side.TARGET);
        assertThat(done.writes()).as("writes move at the cutover").isEqualTo(Side.SOURCE);
    }

    @Test
    void bigBangAndEveryStrategyGoToTheTargetOnceCutOver() {
        RoutingPolicy before = policy("{\"strategy\": {\"type\": \"big_bang\"}}");
        assertThat(before.reads(TandemContext.NONE)).isEqualTo(Side.SOURCE);
        assertThat(before.writes()).isEqualTo(Side.SOURCE);
        for (String s : new String[] {"{\"type\": \"big_bang\"}", "{\"type\": \"shadow_traffic\"}",
                "{\"type\": \"canary\", \"read_percentage\": 0.05}",
                "{\"type\": \"blue_green\", \"active_is_new\": false}"}) {
            RoutingPolicy after = policy("{\"epoch\": 7, \"cut_over\": true, \"strategy\": " + s + "}");
            assertThat(after.state().epoch()).isEqualTo(7);
            assertThat(after.reads(new TandemContext("u", null, null))).as(s).isEqualTo(Side.TARGET);
            assertThat(after.writes()).as(s).isEqualTo(Side.TARGET);
            assertThat(after.shadowReads(TandemContext.NONE)).isFalse();
        }
    }

    @Test
    void noReadGoesToATargetThatIsNotReadyAndTheFreezeIsParsed() {
        RoutingPolicy copying = policy("""
                {"epoch": 3, "cut_over": false, "frozen": true, "freeze_timeout_ms": 750, "target_ready": false,
                 "strategy": {"type": "canary", "read_percentage": 1.0}}""");
        assertThat(shareToTarget(copying, null)).as("the target is still being filled").isZero();
        assertThat(copying.state().frozen()).isTrue();
        assertThat(copying.state().freezeTimeoutMs()).isEqualTo(750);
        RoutingPolicy shadow = policy("""
                {"epoch": 3, "target_ready": false, "strategy": {"type": "shadow_traffic"}}""");
        assertThat(shadow.shadowReads(TandemContext.NONE)).isFalse();
        RoutingPolicy ready = policy("""
                {"epoch": 4, "target_ready": true, "strategy": {"type": "canary", "read_percentage": 1.0}}""");
        assertThat(shareToTarget(ready, null)).isEqualTo(1.0);
        assertThat(ready.state().frozen()).isFalse();
        assertThat(ready.state().freezeTimeoutMs()).isEqualTo(RoutingState.DEFAULT_FREEZE_TIMEOUT_MS);
    }

    @Test
    void aRoutingStateThatIsNotOneSaysWhatIsWrong() {
        assertThatThrownBy(() -> RoutingState.parse("{\"strategy\": {\"read_percentage\": 0.1}}"))
                .hasMessageContaining("strategy.type");
        assertThatThrownBy(() -> RoutingState.parse("{\"type\": \"canary\",")).hasMessageContaining("offset");
        assertThatThrownBy(() -> RoutingState.parse("[1]")).hasMessageContaining("JSON object");
        assertThat(RoutingState.parse("{\"type\": \"canary\", \"note\": \"a \\\"quoted\\\" \\u00e9\"}").strategy()
                .get("note")).isEqualTo("a \"quoted\" \u00e9");
    }

    @Test
    void theContextIsSetForAUnitOfWorkAndRestoredAfter() {
        TandemContext outer = new TandemContext("a", null, null);
        outer.run(() -> {
            assertThat(TandemContext.current()).isEqualTo(outer);
            new TandemContext("b", "f", "r").run(() -> assertThat(TandemContext.current().userId()).isEqualTo("b"));
            assertThat(TandemContext.current()).isEqualTo(outer);
        });
        assertThat(TandemContext.current()).isEqualTo(TandemContext.NONE);
    }
}
