package dev.tandem.grpc;

import org.jboss.logging.MDC;

/**
 * The task id in the log context ({@code [task=%X{taskId}]} in every service's log format) while a call works on
 * it, so that the lines one task leaves in four services can be found together. Closing removes what was put.
 */
public final class TaskLogContext implements AutoCloseable {

    /** The log context key the services' log formats read. */
    public static final String KEY = "taskId";

    private static final TaskLogContext UNTAGGED = new TaskLogContext(false);

    private final boolean tagged;

    private TaskLogContext(boolean tagged) {
        this.tagged = tagged;
    }

    /** Puts a task id in the log context; a null or blank one (a call not about one task) leaves it as it is. */
    public static TaskLogContext tag(String taskId) {
        if (taskId == null || taskId.isBlank()) {
            return UNTAGGED;
        }
        MDC.put(KEY, taskId);
        return new TaskLogContext(true);
    }

    @Override
    public void close() {
        if (tagged) {
            MDC.remove(KEY);
        }
    }
}
