package dev.tandem.oracle;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The oracle's router breaker opens on an unhealthy router, not on a router that sheds load or refuses a request:
 * an opened breaker answers UNAVAILABLE to every task for its delay, so counting load shedding turned an overload
 * into an outage.
 */
@QuarkusTest
class RouterBreakerTests extends OracleTestBase {

    @Test
    void loadSheddingDoesNotOpenTheBreaker() {
        failTasks(Status.Code.RESOURCE_EXHAUSTED);
        // more than 20 failed calls reached the router: an open breaker would have stopped them at 20
        assertThat(router.dispatches).as("calls that reached the router").hasSizeGreaterThan(20);

        router.dispatchFailure = null;
        assertThat(oracle().execute(triage()).getStepsCount()).as("the next task runs").isPositive();
    }

    @Test
    void aRouterAnsweringThatItsBackendsAreUnavailableDoesNotOpenIt() {
        // the router is reachable and answers at once; its backends are down (every circuit open): one backend's
        // failures must not stop every task on every backend for the breaker's delay
        router.backendsUnavailable = true;
        for (int i = 0; i < 30 && router.dispatches.size() <= 20; i++) {
            var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(triage()));
            assertThat(e.getStatus().getCode()).as("task %d", i).isEqualTo(Status.Code.UNAVAILABLE);
        }
        assertThat(router.dispatches).as("calls that reached the router").hasSizeGreaterThan(20);

        router.backendsUnavailable = false;
        assertThat(oracle().execute(triage()).getStepsCount()).as("the next task runs").isPositive();
    }

    @Test
    void anUnavailableRouterOpensIt() {
        failTasks(Status.Code.UNAVAILABLE);
        assertThat(router.dispatches).as("calls before the breaker opened").hasSizeGreaterThanOrEqualTo(20);

        router.dispatchFailure = null;
        int before = router.dispatches.size();
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(triage()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(router.dispatches).as("the open breaker answers without calling the router").hasSize(before);
    }

    /** Sends tasks whose every dispatch fails with the code until the router has seen over 20 dispatches. */
    private void failTasks(Status.Code code) {
        router.dispatchFailure = code;
        for (int i = 0; i < 30 && router.dispatches.size() <= 20; i++) {
            var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(triage()));
            assertThat(e).as("task %d with every dispatch failing %s", i, code).isNotNull();
            // the router's own status reaches the client (a refusal is passed on as it came)
            assertThat(e.getStatus().getCode()).as("task %d", i).isEqualTo(code);
        }
    }
}
