package dev.tandem.router.service;

/** A (model, pool) pair: the unit that is selected, profiled and called. Its key reads {@code model@pool}. */
public record Backend(ModelProfile model, WorkerPool pool, String key) {

    public Backend(ModelProfile model, WorkerPool pool) {
        this(model, pool, model.id() + "@" + pool.id());
    }
}
