package io.joinflow.node.raft;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.joinflow.node.catalog.Catalog;
import io.joinflow.proto.v1.MetadataCommand;
import io.joinflow.proto.v1.MetadataResult;
import io.joinflow.proto.v1.MetadataState;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group 0: cluster id, topology, routing, topology version and join records. Log entries are
 * {@link MetadataCommand}s, replies are {@link MetadataResult}s, and a query returns the whole
 * {@link MetadataState}. Commands are validated against the current state before they are
 * appended and applied by the pure {@link MetadataApplier}.
 */
public final class MetadataStateMachine extends CatalogStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(MetadataStateMachine.class);

  private final Consumer<MetadataState> onChange;
  private volatile MetadataState state = MetadataState.getDefaultInstance();

  /**
   * @param onChange called on the apply thread after every change of the state (and after a
   *     snapshot was loaded); it must not block
   */
  public MetadataStateMachine(Catalog catalog, Consumer<MetadataState> onChange) {
    super(catalog);
    this.onChange = onChange;
  }

  /** The state as this replica applied it (possibly behind the leader). */
  public MetadataState state() {
    return state;
  }

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    ByteString data = request.getMessage().getContent();
    TransactionContext trx = TransactionContext.newBuilder().setStateMachine(this)
        .setClientRequest(request).setLogData(data).build();
    try {
      MetadataCommand command = MetadataCommand.parseFrom(data.toByteArray());
      MetadataApplier.Outcome outcome = MetadataApplier.apply(state, command);
      if (!outcome.ok()) {
        trx.setException(Rejection.of(Status.fromCodeValue(outcome.result().getCode()).getCode(),
            outcome.result().getMessage()));
      }
    } catch (InvalidProtocolBufferException e) {
      trx.setException(Rejection.of(Status.Code.INVALID_ARGUMENT, "not a metadata command: " + e.getMessage()));
    }
    return trx;
  }

  @Override
  protected Message applyEntry(ByteString data, long index) {
    MetadataResult result;
    MetadataState next = state;
    try {
      MetadataApplier.Outcome outcome = MetadataApplier.apply(state, MetadataCommand.parseFrom(data.toByteArray()));
      next = outcome.state();
      result = outcome.result().toBuilder().setLogIndex(index).build();
    } catch (InvalidProtocolBufferException e) {
      result = MetadataResult.newBuilder().setCode(Status.Code.INVALID_ARGUMENT.value())
          .setMessage("not a metadata command").setLogIndex(index).build();
    }
    catalog.writeMetadata(next, index);
    boolean changed = next != state;
    state = next;
    if (changed) {
      notifyChange();
    }
    return Message.valueOf(ByteString.copyFrom(result.toByteArray()));
  }

  @Override
  protected Message alreadyApplied(long index) {
    return Message.valueOf(ByteString.copyFrom(MetadataResult.newBuilder().setLogIndex(index)
        .setTopologyVersion(state.getTopologyVersion()).build().toByteArray()));
  }

  @Override
  protected void installSnapshot(InputStream in, long index) throws IOException {
    catalog.writeMetadata(MetadataState.parseFrom(in), index);
  }

  @Override
  protected void writeSnapshot(OutputStream out) throws IOException {
    state.writeTo(out);
  }

  @Override
  protected void loadFromCatalog() {
    state = catalog.metadata().state();
    notifyChange();
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(state.toByteArray())));
  }

  private void notifyChange() {
    try {
      onChange.accept(state);
    } catch (RuntimeException e) {
      LOG.warn("{}: metadata change listener failed", getId(), e);
    }
  }
}
