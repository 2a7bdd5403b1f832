/**
 * joinflow gateway module. See DESIGN.md §2 for what belongs here; the join workflow fills it.
 */
package io.joinflow.gateway;
