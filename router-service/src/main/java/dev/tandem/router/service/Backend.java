package dev.tandem.router.service;

/**
 * A (model, pool) pair: the unit that is selected, profiled and called. Its key reads {@code model@pool}. Created
 * with each catalog snapshot; {@link LiveState} caches the backend's live records on it so a decision reads them
 * without map lookups.
 */
public final class Backend {

    private final ModelProfile model;
    private final WorkerPool pool;
    private final String key;
    volatile Object liveSlot;

    public Backend(ModelProfile model, WorkerPool pool) {
        this.model = model;
        this.pool = pool;
        this.key = model.id() + "@" + pool.id();
    }

    public ModelProfile model() {
        return model;
    }

    public WorkerPool pool() {
        return pool;
    }

    public String key() {
        return key;
    }

    @Override
    public String toString() {
        return key;
    }
}
