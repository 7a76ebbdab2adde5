package dev.tandem.oracle.security;

/**
 * Who is calling the public API.
 *
 * @param tenant        the tenant the task runs for (empty for the default tenant)
 * @param authenticated true when a key established the tenant, false when the request's tenant was trusted
 * @param admin         true when the caller may read every tenant's tasks
 */
public record Caller(String tenant, boolean authenticated, boolean admin) {
}
