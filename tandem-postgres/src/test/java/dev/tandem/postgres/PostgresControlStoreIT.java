package dev.tandem.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.store.AuditEntry;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.Runs;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The control store on PostgreSQL (the production option), with credentials from the environment. */
class PostgresControlStoreIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> STORE = DatabaseExtension.postgres();

    @Test
    void keepsMigrationsRunsAndAuditOnPostgres() {
        STORE.server().execute("CREATE ROLE tandem LOGIN PASSWORD 'store-pw'", "CREATE DATABASE tandem_store OWNER tandem");
        String url = STORE.server().jdbcUrl("tandem_store");
        Function<String, String> env = Map.of(ControlStore.ENV_USER, "tandem", ControlStore.ENV_PASSWORD, "store-pw")::get;
        try (ControlStore store = ControlStore.open(url, env)) {
            store.migrations().create("m", "on postgres", "{}", "alice");
            store.migrations().transition("m", LifecycleEvent.CONFIGURE, null, "alice", null);
            store.migrations().transition("m", LifecycleEvent.START, null, "alice", null);
            store.migrations().transition("m", LifecycleEvent.ADVANCE, Phase.BACKFILL, "engine", null);
            assertThatThrownBy(() -> store.migrations().transition("m", LifecycleEvent.RESUME, null, "bob", null))
                    .isInstanceOfSatisfying(TandemException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_STATE))
                    .hasMessage("cannot resume migration m: expected state paused, actual running");
            RunRecord run = store.runs().create(new Runs.NewRun("m", RunRecord.Kind.BACKFILL, null, null, null, null, 0),
                    List.of(ChunkRecord.planned("public.t", 0, null, null)));
            assertThat(store.runs().markChunk(
                    store.runs().chunks(run.runId(), null).get(0), ChunkStatus.NOT_STARTED, ChunkStatus.STARTED,
                    0, 0, null)).isTrue();
        }
        try (ControlStore reopened = ControlStore.open(url, env)) {
            assertThat(reopened.migrations().get("m").status().state()).isEqualTo(MigrationState.RUNNING);
            assertThat(reopened.audit().list("m")).extracting(AuditEntry::action)
                    .containsExactly("create", "configure", "start", "advance");
            assertThat(reopened.display()).isEqualTo(url);
        }
    }

    @Test
    void saysWhyItCannotOpenAStoreWithWrongCredentials() {
        String url = STORE.server().jdbcUrl();
        assertThatThrownBy(() -> ControlStore.open(url, Map.of(ControlStore.ENV_USER, "postgres",
                ControlStore.ENV_PASSWORD, "wrong")::get))
                .isInstanceOfSatisfying(TandemException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STORE))
                .hasMessageContaining("cannot open the control store at " + url)
                .hasMessageContaining("password authentication failed");
    }
}
