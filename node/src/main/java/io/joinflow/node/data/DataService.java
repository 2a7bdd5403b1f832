package io.joinflow.node.data;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import io.joinflow.node.errors.StatusMapping;
import io.joinflow.node.group0.Group0Client;
import io.joinflow.node.local.GroupDivisions;
import io.joinflow.node.local.LocalIdentity;
import io.joinflow.node.local.PeerDirectory;
import io.joinflow.node.raft.ClusterIds;
import io.joinflow.node.raft.DataStateMachine;
import io.joinflow.node.raft.RaftClients;
import io.joinflow.proto.v1.DataGrpc;
import io.joinflow.proto.v1.GetRequest;
import io.joinflow.proto.v1.GetResponse;
import io.joinflow.proto.v1.PutRequest;
import io.joinflow.proto.v1.PutResponse;
import io.joinflow.proto.v1.ReadConsistency;
import java.io.IOException;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane on one node: a key's write or read goes to the data group that owns it
 * (vShard = hash(key) mod 1024, vShard i in group {@code 1 + i % G}), through the group's leader,
 * or — for a LOCAL read — to this node's own replica.
 */
public final class DataService extends DataGrpc.DataImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(DataService.class);

  private final LocalIdentity identity;
  private final Group0Client group0;
  private final GroupDivisions divisions;
  private final PeerDirectory peers;
  private final RaftClients clients;

  public DataService(LocalIdentity identity, Group0Client group0, GroupDivisions divisions, PeerDirectory peers,
                     RaftClients clients) {
    this.identity = identity;
    this.group0 = group0;
    this.divisions = divisions;
    this.peers = peers;
    this.clients = clients;
  }

  @Override
  public void put(PutRequest request, StreamObserver<PutResponse> out) {
    try {
      int group = ownerOf(request.getKey().toByteArray());
      byte[] reply = send(group, request.toByteArray(), false);
      reply(out, parse(() -> PutResponse.parseFrom(reply)));
    } catch (Exception e) {
      fail("put", out, e);
    }
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> out) {
    try {
      int group = ownerOf(request.getKey().toByteArray());
      if (request.getConsistency() == ReadConsistency.LOCAL) {
        RaftServer.Division d = divisions.division(group).orElseThrow(() -> Status.FAILED_PRECONDITION
            .withDescription("node " + Long.toUnsignedString(identity.nodeId()) + " hosts no replica of group " + group
                + "; use LINEARIZABLE").asException());
        reply(out, ((DataStateMachine) d.getStateMachine()).read(request));
        return;
      }
      byte[] reply = send(group, request.toByteArray(), true);
      reply(out, parse(() -> GetResponse.parseFrom(reply)));
    } catch (Exception e) {
      fail("get", out, e);
    }
  }

  /** Sends an entry (write) or query (read) to a group's leader and returns the reply bytes. */
  private byte[] send(int group, byte[] payload, boolean readOnly) throws StatusException {
    try {
      var api = clients.forGroup(divisions.groupId(group), peers.clientPeers(group0.local(), group)).io();
      Message m = Message.valueOf(ByteString.copyFrom(payload));
      RaftClientReply reply = readOnly ? api.sendReadOnly(m) : api.send(m);
      if (!reply.isSuccess()) {
        throw StatusMapping.toStatusException(reply.getException());
      }
      return reply.getMessage().getContent().toByteArray();
    } catch (IOException e) {
      throw StatusMapping.toStatusException(e);
    }
  }

  private int ownerOf(byte[] key) throws StatusException {
    if (key.length == 0) {
      throw Status.INVALID_ARGUMENT.withDescription("key must not be empty").asException();
    }
    int groups = group0.local().getDataGroups();
    if (groups == 0) {
      groups = identity.get().dataGroups();
    }
    if (groups == 0) {
      throw Status.FAILED_PRECONDITION.withDescription("node " + Long.toUnsignedString(identity.nodeId())
          + " belongs to no cluster yet").asException();
    }
    return ClusterIds.groupOfVshard(ClusterIds.vshardOf(key), groups);
  }

  @FunctionalInterface
  private interface Parse<T> {
    T run() throws InvalidProtocolBufferException;
  }

  private static <T> T parse(Parse<T> p) throws StatusException {
    try {
      return p.run();
    } catch (InvalidProtocolBufferException e) {
      throw Status.INTERNAL.withDescription("undecodable reply: " + e.getMessage()).asException();
    }
  }

  private static <T> void reply(StreamObserver<T> out, T result) {
    out.onNext(result);
    out.onCompleted();
  }

  private void fail(String what, StreamObserver<?> out, Exception e) {
    Status s = StatusMapping.toStatus(e);
    if (s.getCode() == Status.Code.INTERNAL) {
      LOG.error("node {}: {} failed", Long.toUnsignedString(identity.nodeId()), what, e);
    } else {
      LOG.debug("node {}: {} failed: {}", Long.toUnsignedString(identity.nodeId()), what, s);
    }
    out.onError(s.asException());
  }
}
