-- Finished tasks are deleted after the retention (FinishedTaskRetention): find them without scanning the table.
CREATE INDEX tasks_finished ON oracle.tasks (finished_at) WHERE state IN ('SUCCEEDED', 'FAILED', 'CANCELLED');
