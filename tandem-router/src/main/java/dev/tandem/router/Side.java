package dev.tandem.router;

/** Where a statement goes: the database being migrated from, or the one being migrated to. */
public enum Side {
    SOURCE, TARGET;

    public Side other() {
        return this == SOURCE ? TARGET : SOURCE;
    }
}
