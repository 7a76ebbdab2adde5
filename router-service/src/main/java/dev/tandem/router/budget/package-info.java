/**
 * Spending limits a step is checked against: the task budget, tenant budgets over a window, and the exploration
 * budget that bounds overspend against oracle-direct.
 */
package dev.tandem.router.budget;
