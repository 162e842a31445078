/**
 * Keylime runtime policies (meta.version 1): model, strict bounded JSON IO, legacy allow/exclude-list conversion,
 * policy creation, and DSSE-signed policy verification.
 */
package dev.outpost.ima.policy;
