/**
 * The JoinService gateway (server) and the client a joining node uses to call it.
 */
package io.joinflow.gateway;
