package dev.tandem.router.catalog;

/**
 * A (model, pool) pair: the unit that is selected, profiled and called. Its key reads {@code model@pool}. Created
 * with each catalog snapshot; the live view ({@code LiveState}) caches the backend's live records on it so a
 * decision reads them without map lookups.
 */
public final class Backend {

    private final ModelProfile model;
    private final WorkerPool pool;
    private final String key;
    private volatile Object liveSlot;

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

    /** What the live view cached on this backend, or null; opaque to the catalog. */
    public Object liveSlot() {
        return liveSlot;
    }

    public void liveSlot(Object slot) {
        liveSlot = slot;
    }

    @Override
    public String toString() {
        return key;
    }
}
