package io.joinflow.cli;

import io.joinflow.activities.JoinActivitiesImpl;
import io.joinflow.activities.MembershipActivitiesImpl;
import io.joinflow.activities.NodeAdminPool;
import io.joinflow.security.Channels;
import io.joinflow.worker.JoinWorker;
import io.joinflow.worker.TemporalConnection;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import io.temporal.common.interceptors.WorkflowInboundCallsInterceptor;
import io.temporal.common.interceptors.WorkflowInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkflowOutboundCallsInterceptor;
import io.temporal.common.interceptors.WorkflowOutboundCallsInterceptorBase;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.workflow.unsafe.WorkflowUnsafe;
import java.util.List;

/**
 * A join worker with its own connection to Temporal and to the cluster, that the test can kill
 * the way a crash would: its connection goes first, so nothing it was doing is reported, then
 * its threads stop. It runs the same workflows and activities as any worker, plus
 * {@link WorkerCheckpoint}s that make it stop at a chosen point of a join. Sticky execution is
 * off (restartable), as for any worker that may stop while joins run.
 */
final class CrashableWorker implements AutoCloseable {
  private final String identity;
  private final WorkflowServiceStubs service;
  private final NodeAdminPool pool;
  private final JoinWorker worker;
  private final List<WorkerCheckpoint> checkpoints;

  private CrashableWorker(String identity, String temporalTarget, String nodeAdmin, Channels transport,
                          List<WorkerCheckpoint> checkpoints) {
    this.identity = identity;
    this.checkpoints = List.copyOf(checkpoints);
    this.service = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget(temporalTarget).build());
    WorkflowClient client = WorkflowClient.newInstance(service, WorkflowClientOptions.newBuilder()
        .setNamespace(TemporalConnection.EMBEDDED_NAMESPACE).setIdentity(identity).build());
    this.pool = new NodeAdminPool(List.of(nodeAdmin), transport);
    this.worker = new JoinWorker(client, new JoinActivitiesImpl(pool), new MembershipActivitiesImpl(pool), true,
        List.of(new Checkpoints()));
  }

  /**
   * @param identity how the worker appears in workflow histories
   * @param temporalTarget host:port of the Temporal frontend
   * @param nodeAdmin a cluster node's NodeAdmin address
   * @param transport how it calls the node: with a worker certificate on a secure cluster
   */
  static CrashableWorker start(String identity, String temporalTarget, String nodeAdmin, Channels transport,
                               WorkerCheckpoint... checkpoints) {
    CrashableWorker w = new CrashableWorker(identity, temporalTarget, nodeAdmin, transport, List.of(checkpoints));
    w.worker.start();
    return w;
  }

  String identity() {
    return identity;
  }

  /**
   * Kills the worker: its connection to Temporal is cut first, so no result, failure or
   * heartbeat of a task in flight reaches the server; then a task held at a checkpoint ends
   * without effect and every thread stops. The server learns of it only by timeouts.
   */
  void kill() {
    service.shutdownNow();
    for (WorkerCheckpoint c : checkpoints) {
      if (identity.equals(c.holder())) {
        c.releaseKilled();
      }
    }
    worker.closeNow();
    pool.close();
  }

  @Override
  public void close() {
    for (WorkerCheckpoint c : checkpoints) {
      if (identity.equals(c.holder())) {
        c.releaseKilled();
      }
    }
    worker.closeNow();
    service.shutdownNow();
    pool.close();
  }

  private void reach(WorkerCheckpoint.Where where, String type, Object[] args, String id) {
    for (WorkerCheckpoint c : checkpoints) {
      if (c.take(where, type, args, identity, id)) {
        c.hold();
      }
    }
  }

  private final class Checkpoints extends WorkerInterceptorBase {
    @Override
    public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
      return new ActivityInboundCallsInterceptorBase(next) {
        private ActivityExecutionContext context;

        @Override
        public void init(ActivityExecutionContext context) {
          this.context = context;
          super.init(context);
        }

        @Override
        public ActivityOutput execute(ActivityInput input) {
          String type = context.getInfo().getActivityType();
          String id = context.getInfo().getActivityId();
          reach(WorkerCheckpoint.Where.BEFORE_ACTIVITY, type, input.getArguments(), id);
          ActivityOutput output = super.execute(input);
          reach(WorkerCheckpoint.Where.AFTER_ACTIVITY, type, input.getArguments(), id);
          return output;
        }
      };
    }

    @Override
    public WorkflowInboundCallsInterceptor interceptWorkflow(WorkflowInboundCallsInterceptor next) {
      return new WorkflowInboundCallsInterceptorBase(next) {
        @Override
        public void init(WorkflowOutboundCallsInterceptor outboundCalls) {
          super.init(new WorkflowOutboundCallsInterceptorBase(outboundCalls) {
            @Override
            public <R> ActivityOutput<R> executeActivity(ActivityInput<R> input) {
              // Replay re-creates commands the server already has; only a new one is the point.
              if (!WorkflowUnsafe.isReplaying()) {
                // Holding blocks the workflow thread on purpose: the task stays open.
                WorkflowUnsafe.deadlockDetectorOff(() -> reach(WorkerCheckpoint.Where.SCHEDULING_ACTIVITY,
                    input.getActivityName(), input.getArgs(), ""));
              }
              return super.executeActivity(input);
            }
          });
        }
      };
    }
  }
}
