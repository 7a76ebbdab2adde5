/**
 * What the router measures and learns at run time (latency windows, audit quality, calibrations, stream outlooks,
 * review prices, reviewed outcomes) and the live view selection reads over it.
 */
package dev.tandem.router.learning;
