package io.joinflow.node.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.joinflow.node.catalog.Catalog;
import io.joinflow.proto.v1.GetRequest;
import io.joinflow.proto.v1.GetResponse;
import io.joinflow.proto.v1.PutRequest;
import io.joinflow.proto.v1.PutResponse;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * A data group: a key-value store in the catalog. Log entries are {@link PutRequest}s, a query
 * is a {@link GetRequest}. The node routes each key to the group that owns its vShard.
 */
public final class DataStateMachine extends CatalogStateMachine {
  public DataStateMachine(Catalog catalog) {
    super(catalog);
  }

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    ByteString data = request.getMessage().getContent();
    TransactionContext trx = TransactionContext.newBuilder().setStateMachine(this)
        .setClientRequest(request).setLogData(data).build();
    try {
      PutRequest put = PutRequest.parseFrom(data.toByteArray());
      if (put.getKey().isEmpty()) {
        trx.setException(Rejection.of(Status.Code.INVALID_ARGUMENT, "key must not be empty"));
      }
    } catch (InvalidProtocolBufferException e) {
      trx.setException(Rejection.of(Status.Code.INVALID_ARGUMENT, "not a put: " + e.getMessage()));
    }
    return trx;
  }

  @Override
  protected Message applyEntry(ByteString data, long index) {
    try {
      PutRequest put = PutRequest.parseFrom(data.toByteArray());
      catalog.applyData(group, put.getKey().toByteArray(), put.getValue().toByteArray(), index);
    } catch (InvalidProtocolBufferException e) {
      // Validated before append; an undecodable entry changes nothing but is still consumed.
      catalog.setAppliedIndex(group, index);
    }
    return reply(index);
  }

  @Override
  protected Message alreadyApplied(long index) {
    return reply(index);
  }

  private Message reply(long index) {
    return Message.valueOf(ByteString.copyFrom(
        PutResponse.newBuilder().setGroupId(group).setLogIndex(index).build().toByteArray()));
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    try {
      GetRequest get = GetRequest.parseFrom(request.getContent().toByteArray());
      return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(read(get).toByteArray())));
    } catch (InvalidProtocolBufferException e) {
      return CompletableFuture.failedFuture(Rejection.of(Status.Code.INVALID_ARGUMENT, "not a get"));
    }
  }

  /** Reads a key from this replica's catalog. */
  public GetResponse read(GetRequest get) {
    GetResponse.Builder b = GetResponse.newBuilder().setGroupId(group);
    catalog.getData(group, get.getKey().toByteArray()).ifPresent(v ->
        b.setFound(true).setValue(com.google.protobuf.ByteString.copyFrom(v)));
    return b.build();
  }

  @Override
  protected void installSnapshot(InputStream in, long index) throws IOException {
    DataInputStream din = new DataInputStream(in);
    List<Map.Entry<byte[], byte[]>> entries = new ArrayList<>();
    for (int keyLength; (keyLength = din.readInt()) >= 0; ) {
      byte[] key = din.readNBytes(keyLength);
      byte[] value = din.readNBytes(din.readInt());
      entries.add(new AbstractMap.SimpleImmutableEntry<>(key, value));
    }
    catalog.replaceGroup(group, entries, index);
  }

  @Override
  protected void writeSnapshot(OutputStream out) throws IOException {
    DataOutputStream dout = new DataOutputStream(out);
    try {
      catalog.scanData(group, (k, v) -> {
        try {
          dout.writeInt(k.length);
          dout.write(k);
          dout.writeInt(v.length);
          dout.write(v);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    dout.writeInt(-1);
    dout.flush();
  }

  @Override
  protected void loadFromCatalog() {
    // The state lives in the catalog only.
  }
}
