package dev.tandem.router;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;

/** With {@code catalog.admin-api=false} (as the Kubernetes manifests ship it) the catalog cannot change over HTTP. */
@QuarkusTest
@QuarkusTestResource(FakeWorkerPools.class)
@TestProfile(CatalogAdminApiOffTests.AdminApiOff.class)
class CatalogAdminApiOffTests {

    public static class AdminApiOff implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("tandem.router.catalog.admin-api", "false");
        }
    }

    @BeforeAll
    static void logFailures() {
        RestAssured.enableLoggingOfRequestAndResponseIfValidationFails();
    }

    @Test
    void catalogChangesAreForbiddenAndChangeNothing() {
        given().contentType(ContentType.JSON)
                .body("{\"tier\":\"small\",\"input-usd-per-mtok\":0.5,\"output-usd-per-mtok\":1.5}")
                .when().put("/api/catalog/models/off-new").then().statusCode(403)
                .body("error", containsString("tandem.router.catalog.admin-api=false"));
        given().when().delete("/api/catalog/models/embedded-minilm").then().statusCode(403);

        given().when().get("/api/catalog").then().statusCode(200)
                .body("models.id", not(hasItem("off-new")))
                .body("models.id", hasItem("embedded-minilm"));
    }
}
