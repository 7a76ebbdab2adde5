/**
 * The catalog: models, worker pools and their (model, pool) backends as one immutable snapshot, where it comes from
 * and how it changes at run time. Depends on nothing else of the router but its configuration.
 */
package dev.tandem.router.catalog;
