/**
 * Ranking the candidates of one step: the routing policies, the expected-cost rules, bounded exploration and trust
 * earning. Reads the catalog, the live view and the budgets; calls nothing.
 */
package dev.tandem.router.selection;
