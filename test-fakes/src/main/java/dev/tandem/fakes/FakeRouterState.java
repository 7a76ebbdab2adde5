package dev.tandem.fakes;

import dev.tandem.proto.router.v1.CancelCallsRequest;
import dev.tandem.proto.router.v1.DispatchRequest;
import dev.tandem.proto.router.v1.ReviewRequest;
import dev.tandem.proto.router.v1.ReviewResponse;
import dev.tandem.proto.router.v1.SettleStepRequest;
import io.grpc.Deadline;
import io.grpc.Status;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * What the fake router does, set by each test, and what it saw. A service's tests make it a {@code @Singleton} bean
 * (no client proxy: tests and fakes read these fields directly).
 */
public class FakeRouterState {

    /** Confidence the worker reports, per worker type (default 0.9). */
    public final Map<String, Double> confidence = new ConcurrentHashMap<>();
    /** Worker types whose dispatch fails on every worker tier (UNAVAILABLE). */
    public final Set<String> failingWorkerTypes = ConcurrentHashMap.newKeySet();
    /** Worker types whose dispatch fails on the oracle tier too. */
    public final Set<String> failingOnOracleTier = ConcurrentHashMap.newKeySet();
    /** Step ids whose review rejects the candidate. */
    public final Set<String> rejectedSteps = ConcurrentHashMap.newKeySet();
    /** Worker types whose dispatches go to a stream still earning trust (charged to the exploration budget). */
    public final Set<String> earningTrust = ConcurrentHashMap.newKeySet();
    /** Step ids whose review fails (UNAVAILABLE): the router could reach no reviewer. */
    public final Set<String> failingReviews = ConcurrentHashMap.newKeySet();
    /** When false, a rejecting review carries no reviewer output, so the oracle re-dispatches. */
    public volatile boolean reviewerAnswers = true;
    /** When set, every dispatch, on every tier, fails with this status code. */
    public volatile Status.Code dispatchFailure;
    /**
     * While true, every dispatch, on every tier, gets the router's own answer that no backend can take it
     * (UNAVAILABLE with the BackendsUnavailable detail), as when every backend's circuit is open.
     */
    public volatile boolean backendsUnavailable;
    /** When set, every review answers with it (the audit's tests); unset, as {@link #rejectedSteps} says. */
    public volatile Function<ReviewRequest, ReviewResponse> reviewAnswer;
    /** When > 0, a dispatch waits (up to 5 s) until this many dispatches are in flight at once. */
    public volatile int rendezvous;
    /** While true, a dispatch waits (up to 30 s) before it answers: the task is held mid-step. */
    public volatile boolean holdDispatches;

    public final List<DispatchRequest> dispatches = new CopyOnWriteArrayList<>();
    public final List<ReviewRequest> reviews = new CopyOnWriteArrayList<>();
    public final List<SettleStepRequest> settled = new CopyOnWriteArrayList<>();
    public final List<CancelCallsRequest> cancelledCalls = new CopyOnWriteArrayList<>();
    public final List<Deadline> dispatchDeadlines = new CopyOnWriteArrayList<>();
    public final AtomicInteger inFlight = new AtomicInteger();
    public final AtomicInteger maxInFlight = new AtomicInteger();
    public final AtomicInteger listWorkerTypesCalls = new AtomicInteger();
    public volatile boolean listWorkerTypesDown;
    /** Answer as a router of the first v1: the calibrated confidence in the result's deprecated field. */
    public volatile boolean firstV1Router;

    public void reset() {
        confidence.clear();
        failingWorkerTypes.clear();
        failingOnOracleTier.clear();
        rejectedSteps.clear();
        earningTrust.clear();
        failingReviews.clear();
        reviewerAnswers = true;
        reviewAnswer = null;
        rendezvous = 0;
        holdDispatches = false;
        dispatchFailure = null;
        backendsUnavailable = false;
        dispatches.clear();
        reviews.clear();
        settled.clear();
        cancelledCalls.clear();
        dispatchDeadlines.clear();
        inFlight.set(0);
        maxInFlight.set(0);
        listWorkerTypesDown = false;
        firstV1Router = false;
    }
}
