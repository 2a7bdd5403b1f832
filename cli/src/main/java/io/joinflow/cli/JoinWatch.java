package io.joinflow.cli;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.joinflow.security.Channels;
import io.joinflow.proto.v1.GetJoinRequest;
import io.joinflow.proto.v1.GroupProgress;
import io.joinflow.proto.v1.JoinProgress;
import io.joinflow.proto.v1.JoinServiceGrpc;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The joining node watching its own join: while its Join call waits, a daemon thread asks the
 * gateways for the join's progress ({@code GetJoin}, as {@code joinflow joins --node-id N} does)
 * and reports each change once. A gateway that does not answer is skipped for the next one;
 * before the workflow exists there is nothing to report.
 */
final class JoinWatch implements AutoCloseable {
  /** How often the join's progress is asked for. */
  static final long POLL_MILLIS = 250;

  /** One change of the join as the node reports it. */
  record Change(String phase, int groups, int learner, int caughtUp, List<Integer> pending, List<Integer> removed,
                String uiUrl, String workflowId) {
    static Change of(JoinProgress p) {
      int learner = (int) p.getGroupsList().stream()
          .filter(g -> g.getState().equals("learner") || g.getState().equals("caught-up")).count();
      int caughtUp = (int) p.getGroupsList().stream().filter(g -> g.getState().equals("caught-up")).count();
      return new Change(p.getPhase(), p.getGroupsCount(), learner, caughtUp, ids(p, "pending"), ids(p, "removed"),
          p.getUiUrl(), p.getWorkflowId());
    }

    private static List<Integer> ids(JoinProgress p, String state) {
      return p.getGroupsList().stream().filter(g -> g.getState().equals(state)).map(GroupProgress::getGroupId)
          .map(Integer::valueOf).toList();
    }

    /** One line, as the demo prints it: {@code phase learners     learner in 5/9 groups, caught up in 3 (pending: 7,8)}. */
    String line() {
      StringBuilder b = new StringBuilder(String.format("phase %-12s", phase));
      if (groups > 0) {
        b.append(String.format(" learner in %d/%d groups, caught up in %d", learner, groups, caughtUp));
      }
      if (!pending.isEmpty()) {
        b.append(" (pending: ").append(pending.stream().map(String::valueOf).collect(Collectors.joining(","))).append(')');
      }
      if (!removed.isEmpty()) {
        b.append(" (removed: ").append(removed.stream().map(String::valueOf).collect(Collectors.joining(","))).append(')');
      }
      return b.toString().stripTrailing();
    }
  }

  private final List<String> gateways;
  private final long nodeId;
  private final Consumer<Change> onChange;
  private final Channels transport;
  private final Thread thread;
  private volatile boolean stopped;

  private JoinWatch(List<String> gateways, long nodeId, Channels transport, Consumer<Change> onChange) {
    this.gateways = List.copyOf(gateways);
    this.transport = transport;
    this.nodeId = nodeId;
    this.onChange = onChange;
    this.thread = new Thread(this::run, "join-watch");
    this.thread.setDaemon(true);
  }

  /** Starts watching; {@link #close} stops (and waits for) the watching thread. */
  static JoinWatch start(List<String> gateways, long nodeId, Channels transport, Consumer<Change> onChange) {
    JoinWatch w = new JoinWatch(gateways, nodeId, transport, onChange);
    w.thread.start();
    return w;
  }

  private void run() {
    Change last = null;
    int gateway = 0;
    ManagedChannel channel = null;
    try {
      while (!stopped) {
        if (channel == null) {
          channel = transport.channel(gateways.get(gateway));
        }
        try {
          JoinProgress p = JoinServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
              .getJoin(GetJoinRequest.newBuilder().setNodeId(nodeId).build());
          Change now = Change.of(p);
          if (!now.phase().isEmpty() && !now.equals(last) && !stopped) {
            onChange.accept(now);
            last = now;
          }
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE && gateways.size() > 1) {
            channel.shutdownNow();
            channel = null;
            gateway = (gateway + 1) % gateways.size();
          }
          // NOT_FOUND: the workflow does not exist yet.
        }
        Thread.sleep(POLL_MILLIS);
      }
    } catch (InterruptedException e) {
      // closed
    } finally {
      if (channel != null) {
        channel.shutdownNow();
      }
    }
  }

  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
