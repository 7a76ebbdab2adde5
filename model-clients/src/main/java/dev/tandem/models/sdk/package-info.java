/**
 * What the model clients over a provider's official SDK share ({@link dev.tandem.models.sdk.SdkModelClient}); a
 * package of its own because it depends on both the base model types and the chat types, which depend on each other
 * only one way.
 */
package dev.tandem.models.sdk;
