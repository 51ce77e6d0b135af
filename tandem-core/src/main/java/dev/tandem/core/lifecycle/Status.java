package dev.tandem.core.lifecycle;

/** Where a migration is: its state and its phase. */
public record Status(MigrationState state, Phase phase) {

    public static final Status INITIAL = new Status(MigrationState.PENDING, Phase.PREPARE);

    @Override
    public String toString() {
        return state.wire() + "/" + phase.wire();
    }
}
