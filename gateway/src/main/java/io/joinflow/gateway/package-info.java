/**
 * The JoinService gateway (server) and the client a joining node uses to call it.
 * {@link io.joinflow.gateway.JoinServiceImpl} is the gRPC face over one class per job: Join
 * ({@code JoinAdmission}), promotions ({@code Promotions}), Leave ({@code Leaves}), GetJoin and
 * ListJoins ({@code JoinQueries}), lost joins ({@code JoinRecovery}), join tokens
 * ({@code JoinTokens}) and Bootstrap ({@code NodeCertificates}). The gateway reads group 0's
 * records only ({@link io.joinflow.gateway.ClusterMetadataSource}) and the cluster id once, and
 * changes nothing in group 0 but join tokens.
 */
package io.joinflow.gateway;
