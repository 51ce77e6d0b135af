/**
 * The manifest: its model (seed 000's and 002's shapes), reading YAML or JSON with every problem reported at once
 * (path, value, rule, fix), {@code ${env:...}} references and secrets that never print. May use {@code error} only.
 */
package dev.tandem.core.manifest;
