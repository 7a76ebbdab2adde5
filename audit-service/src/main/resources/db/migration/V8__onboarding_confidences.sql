-- The worker's raw confidence on each golden item, split by the reference's judgement: with it the audit prices
-- what a confidence threshold would review once the stream is trusted (OnboardingOutlook), a cost estimate that
-- certifies nothing. Empty for evidence recorded without them.
ALTER TABLE onboarding_evidence
    ADD COLUMN right_confidences double precision[] NOT NULL DEFAULT '{}',
    ADD COLUMN wrong_confidences double precision[] NOT NULL DEFAULT '{}';
