/**
 * The join worker and its Temporal connection: the embedded in-memory test server for dev and
 * demo, or any Temporal cluster configured through the standard {@code TEMPORAL_*} variables.
 */
package io.joinflow.worker;
