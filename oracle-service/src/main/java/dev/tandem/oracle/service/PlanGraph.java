package dev.tandem.oracle.service;

import java.util.List;

/** A validated plan's execution structure: one valid order and the levels of steps that can run at once. */
public record PlanGraph(List<String> topologicalOrder, List<List<String>> levels) {
}
