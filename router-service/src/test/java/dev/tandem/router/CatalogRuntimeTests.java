package dev.tandem.router;

import static dev.tandem.router.TestSupport.step;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.tandem.proto.router.v1.DispatchResponse;
import dev.tandem.proto.router.v1.RouterServiceGrpc;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Models and pools added or removed at run time, through the admin API and the watched catalog directory. */
@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
class CatalogRuntimeTests {

    @GrpcClient("router")
    RouterServiceGrpc.RouterServiceBlockingStub router;

    @ConfigProperty(name = "test.local-endpoint")
    String localEndpoint;

    @ConfigProperty(name = "tandem.catalog.dir")
    String catalogDir;

    @BeforeAll
    static void logFailures() {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
    }

    @Test
    void aModelAndPoolAddedThroughTheAdminApiAreUsedWithoutARestart() {
        given().contentType(ContentType.JSON)
                .body("{\"tier\":\"small\",\"input-usd-per-mtok\":0.5,\"output-usd-per-mtok\":1.5,"
                        + "\"worker-types\":[\"runtime-test\"],\"prior-quality\":0.9}")
                .when().put("/api/catalog/models/rt-new").then().statusCode(200)
                .body("models.id", hasItem("rt-new"));
        given().contentType(ContentType.JSON)
                .body("{\"endpoint\":\"" + localEndpoint + "\",\"models\":[\"rt-new\"],\"capacity\":4}")
                .when().put("/api/catalog/pools/extra").then().statusCode(200)
                .body("pools.find { it.id == 'extra' }.capacity", equalTo(4))
                .body("source.apiPools", hasItem("extra"));

        DispatchResponse response = router.dispatch(step("runtime-test").build());
        assertThat(response.getDecision().getModelId()).isEqualTo("rt-new");
        assertThat(response.getDecision().getPoolId()).isEqualTo("extra");
        assertThat(response.getCostUsd()).isEqualTo((100 * 0.5 + 20 * 1.5) / 1e6);

        // a model a pool still serves cannot go; removing the pool first makes it free
        given().when().delete("/api/catalog/models/rt-new").then().statusCode(409)
                .body("error", containsString("pool 'extra' serves model 'rt-new'"));
        given().when().delete("/api/catalog/pools/extra").then().statusCode(200);
        given().when().delete("/api/catalog/models/rt-new").then().statusCode(200)
                .body("models.id", not(hasItem("rt-new")));
        given().when().delete("/api/catalog/models/rt-new").then().statusCode(404);
    }

    @Test
    void invalidChangesAreRefusedAndLeaveTheCatalogAsItWas() {
        given().contentType(ContentType.JSON).body("{\"input-usd-per-mtok\":-1}")
                .when().put("/api/catalog/models/bad").then().statusCode(400)
                .body("error", containsString("models.bad.tier is required"))
                .body("error", containsString("models.bad.input-usd-per-mtok must not be negative"));
        given().contentType(ContentType.JSON).body("{\"tier\":\"SMALL\",\"prior-qualty\":0.9}")
                .when().put("/api/catalog/models/typo").then().statusCode(400)
                .body("error", containsString("prior-qualty"));
        given().contentType(ContentType.JSON)
                .body("{\"endpoint\":\"localhost:1\",\"models\":[\"no-such-model\"]}")
                .when().put("/api/catalog/pools/dangling").then().statusCode(409)
                .body("error", containsString("serves model 'no-such-model' which is not in the catalog"));
        given().when().get("/api/catalog").then().statusCode(200)
                .body("models.id", not(hasItem("bad")))
                .body("pools.id", not(hasItem("dangling")));
    }

    @Test
    void aFileDroppedIntoTheCatalogDirectoryIsPickedUpAndABrokenOneIsIgnored() throws Exception {
        Path file = Path.of(catalogDir, "extra-models.json");
        Files.writeString(file, """
                {"models": {"dir-model": {"tier": "MEDIUM", "input-usd-per-mtok": 0.2, "worker-types": ["dir-test"]}},
                 "pools": {"dir-pool": {"endpoint": "%s", "models": ["dir-model"], "capacity": 2}}}
                """.formatted(localEndpoint));
        given().when().put("/api/catalog/reload").then().statusCode(200)
                .body("models.id", hasItem("dir-model"))
                .body("source.files", hasItem("extra-models.json"));
        assertThat(router.dispatch(step("dir-test").build()).getDecision().getModelId()).isEqualTo("dir-model");

        Files.writeString(Path.of(catalogDir, "zz-broken.json"), "{\"models\": {\"x\": {\"tier\": \"HUGE\"}}}");
        given().when().put("/api/catalog/reload").then().statusCode(200)
                .body("models.id", hasItem("dir-model"))
                .body("source.lastError", containsString("zz-broken.json"));
        Files.delete(Path.of(catalogDir, "zz-broken.json"));
        given().when().put("/api/catalog/reload").then().statusCode(200);
        assertThat(router.dispatch(step("dir-test").build()).getDecision().getModelId()).isEqualTo("dir-model");
    }

    @Test
    void aModelEntryFileIsRoutedToAndItsChangesApplyWithoutARestart() throws Exception {
        // one model's whole entry, as the workers read it too: how to reach it (ignored here) and what it is
        Path file = Path.of(catalogDir, "entry-model.yaml");
        Files.writeString(file, """
                provider: openai
                base-url: http://vllm.gpu.svc:8000/v1
                model: Qwen/Qwen2.5-7B-Instruct
                capabilities: [generation, json_schema, logprobs]
                tier: small
                input-usd-per-mtok: 0.4
                output-usd-per-mtok: 0.4
                worker-types: [entry-test]
                prior-quality: 0.9
                pools: [local]
                """);
        given().when().put("/api/catalog/reload").then().statusCode(200)
                .body("models.id", hasItem("entry-model"))
                .body("pools.find { it.id == 'local' }.models", hasItem("entry-model"))
                .body("source.files", hasItem("entry-model.yaml"));
        DispatchResponse first = router.dispatch(step("entry-test").build());
        assertThat(first.getDecision().getModelId()).isEqualTo("entry-model");
        assertThat(first.getDecision().getPoolId()).isEqualTo("local");
        assertThat(first.getCostUsd()).isEqualTo((100 * 0.4 + 20 * 0.4) / 1e6);

        Files.writeString(file, Files.readString(file).replace("input-usd-per-mtok: 0.4", "input-usd-per-mtok: 0.8"));
        given().when().put("/api/catalog/reload").then().statusCode(200);
        assertThat(router.dispatch(step("entry-test").build()).getCostUsd()).isEqualTo((100 * 0.8 + 20 * 0.4) / 1e6);

        // an entry naming a pool the catalog does not have is refused; the running catalog stays
        Files.writeString(file, Files.readString(file).replace("pools: [local]", "pools: [nowhere]"));
        given().when().put("/api/catalog/reload").then().statusCode(200)
                .body("source.lastError", containsString("models.entry-model.pools names pool 'nowhere'"));
        assertThat(router.dispatch(step("entry-test").build()).getDecision().getModelId()).isEqualTo("entry-model");
        Files.delete(file);
        given().when().put("/api/catalog/reload").then().statusCode(200)
                .body("models.id", not(hasItem("entry-model")));
    }

    @Test
    void aWorkerTypesQualityTargetAndCascadeThresholdCanBeChangedAtRunTime() {
        assertThat(router.dispatch(step("policy-test").build()).getResult().getModelId()).isEqualTo("pol-cheap");

        given().contentType(ContentType.JSON).body("{\"quality-target\": 0.9, \"cascade-confidence-threshold\": 0.95}")
                .when().put("/api/policy/policy-test").then().statusCode(200)
                .body("qualityTarget", equalTo(0.9f))
                .body("cascadeConfidenceThreshold", equalTo(0.95f));
        DispatchResponse stricter = router.dispatch(step("policy-test").build());
        assertThat(stricter.getDecision().getModelId()).isEqualTo("pol-good");
        assertThat(stricter.getDecision().getExplanation()).contains("meeting quality 0.90");
        // the fake's 0.9 confidence is now under the threshold, and pol-good is the top tier serving it
        assertThat(stricter.getTraceList()).anySatisfy(l -> assertThat(l).contains("no cascade above LARGE"));

        given().contentType(ContentType.JSON).body("{\"quality-target\": 1.5}")
                .when().put("/api/policy/policy-test").then().statusCode(400)
                .body("error", containsString("quality-target must be in [0, 1]"));
        given().when().delete("/api/policy/policy-test").then().statusCode(200).body("qualityTarget", equalTo(0.8f));
        assertThat(router.dispatch(step("policy-test").build()).getResult().getModelId()).isEqualTo("pol-cheap");
        given().when().delete("/api/policy/policy-test").then().statusCode(404);
    }
}
