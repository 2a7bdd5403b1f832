/**
 * Workflow and activity contracts of joinflow: deterministic orchestration code only. Nothing
 * here does I/O, reads the wall clock or draws random numbers outside the Temporal APIs.
 */
package io.joinflow.workflows;
