package io.joinflow.activities;

import static io.joinflow.activities.NodeAdminFailures.reject;
import static io.joinflow.activities.NodeAdminFailures.rpc;

import io.grpc.Status;
import io.joinflow.proto.v1.LearnerProgressRequest;
import io.joinflow.proto.v1.LearnerProgressResponse;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.GroupStep;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Step 5, awaitLearner: waits until a learner caught up with its group, heartbeating its progress. */
final class LearnerCatchUp {
  private static final Logger LOG = LoggerFactory.getLogger(LearnerCatchUp.class);

  private final NodeAdminPool pool;
  private final ActivitySettings settings;

  LearnerCatchUp(NodeAdminPool pool, ActivitySettings settings) {
    this.pool = Objects.requireNonNull(pool, "pool");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** See {@link JoinActivitiesImpl#awaitLearner}. */
  GroupStep await(GroupInput input) {
    ActivityExecutionContext ctx = Activity.getExecutionContext();
    long target = ctx.getHeartbeatDetails(GroupStep.class)
        .filter(d -> d.groupId() == input.groupId())
        .map(GroupStep::targetIndex)
        .orElse(0L);
    // The first call waits too: a worker that dies before the first heartbeat leaves its retry
    // a later target, which only asks for more.
    LearnerProgressResponse p = progress(input, target, settings.progressWait());
    target = p.getTargetIndex();
    while (!p.getCaughtUp()) {
      ctx.heartbeat(progressStep(input, holds(p), target));
      long started = System.nanoTime();
      p = progress(input, target, settings.progressWait());
      // A node that does not wait (or an answer that came early without catch-up) must not
      // turn this loop into a busy poll.
      long rest = settings.pollInterval().toMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      if (!p.getCaughtUp() && rest > 0) {
        try {
          Thread.sleep(rest);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw Activity.wrap(e);
        }
      }
    }
    LOG.info("node {}: caught up in group {} (holds {} of {})", input.nodeId(), input.groupId(),
        holds(p), target);
    return progressStep(input, holds(p), target);
  }

  private LearnerProgressResponse progress(GroupInput input, long target, Duration wait) {
    LearnerProgressRequest request = LearnerProgressRequest.newBuilder().setGroupId(input.groupId())
        .setNodeId(input.nodeId()).setTargetIndex(target).setWaitMillis((int) wait.toMillis()).build();
    LearnerProgressResponse p = rpc(() -> pool.call("learner progress of node " + input.nodeId() + " in group "
        + input.groupId(), pool.callDeadline().plus(wait), stub -> stub.learnerProgress(request)));
    if (!p.getInConf()) {
      // The workflow adds before it awaits: waiting for a learner that is not there never ends.
      throw reject(Status.FAILED_PRECONDITION, "node " + input.nodeId() + " is not a learner of group "
          + input.groupId());
    }
    return p;
  }

  private static GroupStep progressStep(GroupInput input, long applied, long target) {
    return new GroupStep(input.groupId(), 0, List.of(), List.of(), false, applied, target);
  }

  /** The highest index the learner's log was seen to hold: applied, or matched in the leader's term. */
  private static long holds(LearnerProgressResponse p) {
    return Math.max(p.getAppliedIndex(), p.getMatchedIndex());
  }
}
