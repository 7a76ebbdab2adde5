package dev.tandem.oracle.repository;

/**
 * The task store (PostgreSQL) failed. The task calls answer UNAVAILABLE; a run that hits it is not failed (the
 * task is intact in the store) but left to be resumed once its lease expires.
 */
public class TaskStoreUnavailableException extends RuntimeException {

    public TaskStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /** True when the failure, or one of its causes, is the task store's. */
    public static boolean causedBy(Throwable failure) {
        for (var t = failure; t != null; t = t.getCause()) {
            if (t instanceof TaskStoreUnavailableException) {
                return true;
            }
        }
        return false;
    }
}
