package dev.tandem.oracle.service;

import io.grpc.Deadline;

import java.util.Map;
import java.util.Optional;

/** What a planner gets: the task text, the request's inputs, the pipeline asked for, and the deadline. */
public record PlanningRequest(String taskId, String task, Map<String, String> inputs, Optional<String> pipeline,
                              Deadline deadline) {
}
