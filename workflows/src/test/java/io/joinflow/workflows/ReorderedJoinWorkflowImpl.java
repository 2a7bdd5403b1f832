package io.joinflow.workflows;

import io.joinflow.workflows.JoinActivities.AdmitInput;
import io.joinflow.workflows.JoinActivities.BroadcastInput;
import io.joinflow.workflows.JoinActivities.GroupInput;
import io.joinflow.workflows.JoinActivities.PersistInput;
import io.joinflow.workflows.JoinActivities.RegisterInput;
import io.joinflow.workflows.JoinActivities.ValidateInput;
import io.joinflow.workflows.JoinActivities.ValidateResult;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.List;

/**
 * The join as a careless change would rewrite it: admit before registerPeer, without a new
 * {@code getVersion} branch. {@link JoinReplayTest} checks that replaying a committed history
 * against it fails, which is what protects joins already running when such a change ships.
 */
public class ReorderedJoinWorkflowImpl implements JoinWorkflow {
  private String phase = JoinPhase.VALIDATE;

  @Override
  public JoinResult join(JoinInput input) {
    Workflow.getVersion(JoinWorkflowImpl.STEPS_CHANGE_ID, Workflow.DEFAULT_VERSION, JoinWorkflowImpl.STEPS_VERSION);
    setPhase(JoinPhase.VALIDATE);
    Workflow.newTimer(Duration.ofMillis(JoinOptions.DEFAULT_DEADLINE_MILLIS));
    JoinActivities activities = Workflow.newActivityStub(JoinActivities.class, JoinStepOptions.ADD_LEARNER);
    String workflowId = Workflow.getInfo().getWorkflowId();

    ValidateResult validated = activities.validate(
        new ValidateInput(input.nodeId(), input.listenAddr(), input.wireVersion(), input.clusterId()));
    setPhase(JoinPhase.ADMIT);
    activities.admit(new AdmitInput(input.nodeId(), input.listenAddr(), "", "", input.wireVersion(), workflowId));
    setPhase(JoinPhase.REGISTER_PEER);
    activities.registerPeer(new RegisterInput(input.nodeId(), input.listenAddr(), input.clusterId()));
    setPhase(JoinPhase.LEARNERS);
    for (int g = 0; g <= validated.dataGroups(); g++) {
      activities.addLearner(new GroupInput(input.nodeId(), g));
      activities.awaitLearner(new GroupInput(input.nodeId(), g));
    }
    setPhase(JoinPhase.PERSIST);
    ClusterSnapshot persisted = activities.persist(new PersistInput(input.nodeId(), workflowId));
    setPhase(JoinPhase.BROADCAST);
    activities.broadcast(new BroadcastInput(input.nodeId(), input.listenAddr()));
    setPhase(JoinPhase.DONE);
    return JoinResult.joined(persisted, false);
  }

  @Override
  public JoinProgress progress() {
    return new JoinProgress(0, phase, 0, 0, List.of(), "");
  }

  private void setPhase(String newPhase) {
    phase = newPhase;
    Workflow.upsertTypedSearchAttributes(JoinSearchAttributes.PHASE.valueSet(newPhase));
  }
}
