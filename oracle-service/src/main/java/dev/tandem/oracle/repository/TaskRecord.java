package dev.tandem.oracle.repository;

import dev.tandem.proto.oracle.v1.ExecuteResponse;

import java.time.Instant;

/** A task as the admin endpoints show it: running, or finished with its response or its error. */
public record TaskRecord(String taskId, String task, String tenant, Status status, Instant startedAt,
                         Instant finishedAt, String error, ExecuteResponse response) {

    public enum Status { RUNNING, SUCCEEDED, FAILED }

    public static TaskRecord running(String taskId, String task, String tenant) {
        return new TaskRecord(taskId, task, tenant, Status.RUNNING, Instant.now(), null, null, null);
    }

    public TaskRecord succeeded(ExecuteResponse response) {
        return new TaskRecord(taskId, task, tenant, Status.SUCCEEDED, startedAt, Instant.now(), null, response);
    }

    public TaskRecord failed(String error) {
        return new TaskRecord(taskId, task, tenant, Status.FAILED, startedAt, Instant.now(), error, null);
    }
}
