/**
 * Routing a step end to end: select, call the ranked candidates with failover and hedging, price the attempts,
 * calibrate and cascade; the worker-type directory and the routing metrics.
 */
package dev.tandem.router.dispatch;
