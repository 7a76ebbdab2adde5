package dev.tandem.oracle;

import com.google.rpc.RetryInfo;
import dev.tandem.oracle.security.ApiKeys;
import dev.tandem.proto.oracle.v1.CancelTaskRequest;
import dev.tandem.proto.oracle.v1.ExecuteRequest;
import dev.tandem.proto.oracle.v1.GetTaskRequest;
import dev.tandem.proto.oracle.v1.ListTasksRequest;
import dev.tandem.proto.oracle.v1.SubmitTaskRequest;
import dev.tandem.proto.oracle.v1.TaskState;
import dev.tandem.proto.oracle.v1.ExecuteResponse;
import dev.tandem.proto.oracle.v1.OracleServiceGrpc;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.everyItem;
import static org.hamcrest.Matchers.is;

/** With {@code auth=api-key}: keys decide the tenant, tenants are isolated, and each is rate limited. */
@QuarkusTest
@TestProfile(AccessControlTests.ApiKeyProfile.class)
class AccessControlTests extends OracleTestBase {

    static final String ACME_KEY = "tk_acme_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    static final String GLOBEX_KEY = "tk_globex_0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    static final String OPS_KEY = "tk_ops_5555aaaa6666bbbb7777cccc8888dddd";
    static final String LIMITED_KEY = "tk_limited_1234567890abcdef1234567890ab";

    public static class ApiKeyProfile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "tandem.oracle.access.auth", "api-key",
                    "tandem.oracle.access.api-keys.\"acme\"", ApiKeys.digest(ACME_KEY),
                    "tandem.oracle.access.api-keys.\"globex\"", ApiKeys.digest(GLOBEX_KEY),
                    "tandem.oracle.access.api-keys.\"ops\"", ApiKeys.digest(OPS_KEY),
                    "tandem.oracle.access.api-keys.\"limited\"", ApiKeys.digest(LIMITED_KEY),
                    "tandem.oracle.access.admin-tenants", "ops",
                    "tandem.oracle.limits.tenant-tasks-per-window.\"limited\"", "2",
                    "tandem.oracle.limits.window", "1h");
        }
    }

    private final List<String> logLines = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            logLines.add(record.getMessage() + " " + java.util.Arrays.toString(record.getParameters())
                    + " " + record.getThrown());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLogs() {
        Logger.getLogger("").addHandler(capture);
    }

    @AfterEach
    void stopCapturing() {
        Logger.getLogger("").removeHandler(capture);
    }

    private static OracleServiceGrpc.OracleServiceBlockingStub withKey(OracleServiceGrpc.OracleServiceBlockingStub stub,
                                                                      String header, String value) {
        var headers = new Metadata();
        headers.put(Metadata.Key.of(header, Metadata.ASCII_STRING_MARSHALLER), value);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private ExecuteResponse runAs(String key, String tenant) {
        return withKey(oracle(), "authorization", "Bearer " + key)
                .execute(triage().toBuilder().setTenant(tenant).build());
    }

    @Test
    void aCallWithoutAKeyIsUnauthenticatedAndRunsNothing() {
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().execute(triage()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(e.getStatus().getDescription()).contains("authorization: Bearer").contains("x-api-key");
        assertThat(router.dispatches).isEmpty();
    }

    @Test
    void anUnknownKeyIsUnauthenticated() {
        var e = catchThrowableOfType(StatusRuntimeException.class,
                () -> withKey(oracle(), "x-api-key", "tk_guess_000000").execute(triage()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(e.getStatus().getDescription()).doesNotContain("tk_guess_000000");
        assertThat(router.dispatches).isEmpty();
    }

    @Test
    void theKeyDecidesTheTenantEverywhereDownstream() {
        withKey(oracle(), "x-api-key", ACME_KEY).execute(triage());

        assertThat(router.dispatches).isNotEmpty().allSatisfy(d -> assertThat(d.getTenant()).isEqualTo("acme"));
        assertThat(audit.decisions.values()).isNotEmpty()
                .allSatisfy(d -> assertThat(d.getStream().getTenant()).isEqualTo("acme"));
    }

    @Test
    void submittedTasksBelongToTheKeysTenantAndNoOtherKeySeesThem() {
        var submit = SubmitTaskRequest.newBuilder().setRequest(triage()).build();
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> oracle().submitTask(submit));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);

        var acme = withKey(oracle(), "x-api-key", ACME_KEY);
        var globex = withKey(oracle(), "x-api-key", GLOBEX_KEY);
        var task = acme.submitTask(submit).getTask();
        assertThat(task.getTenant()).isEqualTo("acme");
        var id = task.getTaskId();
        eventually(() -> assertThat(acme.getTask(GetTaskRequest.newBuilder().setTaskId(id).build()).getTask()
                .getState()).isEqualTo(TaskState.TASK_STATE_SUCCEEDED));

        for (var call : List.<Runnable>of(
                () -> globex.getTask(GetTaskRequest.newBuilder().setTaskId(id).build()),
                () -> globex.cancelTask(CancelTaskRequest.newBuilder().setTaskId(id).build()))) {
            var refused = catchThrowableOfType(StatusRuntimeException.class, call::run);
            assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        }
        var named = catchThrowableOfType(StatusRuntimeException.class,
                () -> globex.getTask(GetTaskRequest.newBuilder().setTaskId(id).setTenant("acme").build()));
        assertThat(named.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(globex.listTasks(ListTasksRequest.getDefaultInstance()).getTasksList())
                .noneMatch(t -> t.getTaskId().equals(id));
        assertThat(acme.listTasks(ListTasksRequest.getDefaultInstance()).getTasksList())
                .anyMatch(t -> t.getTaskId().equals(id));
    }

    @Test
    void aKeyCannotRunTasksForAnotherTenant() {
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> runAs(ACME_KEY, "globex"));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(e.getStatus().getDescription()).contains("'acme'").contains("'globex'");
        assertThat(router.dispatches).isEmpty();
    }

    @Test
    void aTenantOverItsRateLimitIsToldWhenToRetry() throws Exception {
        runAs(LIMITED_KEY, "");
        runAs(LIMITED_KEY, "");
        var e = catchThrowableOfType(StatusRuntimeException.class, () -> runAs(LIMITED_KEY, ""));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(e.getStatus().getDescription()).contains("tenant 'limited'").contains("2 tasks per PT1H");
        var retry = StatusProto.fromThrowable(e).getDetailsList().stream().filter(d -> d.is(RetryInfo.class))
                .findFirst().orElseThrow();
        assertThat(com.google.protobuf.util.Durations.toMillis(
                retry.unpack(RetryInfo.class).getRetryDelay())).isPositive();
        // other tenants are not affected
        assertThat(runAs(ACME_KEY, "").getStepsCount()).isPositive();
    }

    @Test
    void adminEndpointsNeedAKeyAndShowATenantOnlyItsOwnTasks() {
        var acme = runAs(ACME_KEY, "").getTaskId();
        var globex = runAs(GLOBEX_KEY, "").getTaskId();

        given().when().get("/api/tasks").then().statusCode(401).body("error", containsString("API key"));
        given().header("X-Api-Key", ACME_KEY).when().get("/api/tasks?limit=1000").then().statusCode(200)
                .body("tenant", everyItem(is("acme")));
        given().header("X-Api-Key", ACME_KEY).when().get("/api/tasks/" + globex).then().statusCode(404);
        given().header("Authorization", "Bearer " + ACME_KEY).when().get("/api/tasks/" + acme).then().statusCode(200)
                .body("taskId", is(acme));
        given().header("X-Api-Key", OPS_KEY).when().get("/api/tasks/" + globex).then().statusCode(200);
        given().header("X-Api-Key", ACME_KEY).when().get("/api/audit/pending").then().statusCode(403);
        given().header("X-Api-Key", OPS_KEY).when().get("/api/audit/pending").then().statusCode(200);
    }

    @Test
    void noKeyEverAppearsInTheLogs() {
        runAs(ACME_KEY, "");
        catchThrowableOfType(StatusRuntimeException.class, () -> runAs(ACME_KEY, "globex"));
        catchThrowableOfType(StatusRuntimeException.class,
                () -> withKey(oracle(), "x-api-key", GLOBEX_KEY + "x").execute(triage()));
        given().header("X-Api-Key", ACME_KEY).when().get("/api/tasks").then().statusCode(200);

        assertThat(logLines).isNotEmpty();
        assertThat(logLines).noneMatch(l -> l.contains(ACME_KEY) || l.contains(GLOBEX_KEY));
    }
}
