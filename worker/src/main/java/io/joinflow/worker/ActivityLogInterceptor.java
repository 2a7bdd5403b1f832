package io.joinflow.worker;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.client.ActivityCompletionException;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import io.temporal.failure.ApplicationFailure;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Gives every activity attempt its identity in the log: the node, the workflow and the group it
 * works for are in the MDC ({@link #NODE}, {@link #WORKFLOW}, {@link #GROUP}) while it runs, and
 * a failed attempt is one line, identity first ("node 4 join/123/4 addLearner group 3 attempt 2
 * failed (Unavailable): ..."). The SDK's own per-attempt warning, a full stack trace for every
 * retry, is meant to be silenced in the logging configuration: this line replaces it.
 *
 * <p>An {@link ApplicationFailure} is the activities' own verdict (NodeAdminFailures mapped the
 * status it came from): its line carries no stack trace. Anything else an activity throws is a
 * bug, logged at ERROR with its stack trace. A canceled attempt is one line at INFO. The
 * exception always propagates unchanged, so Temporal retries (or not) exactly as without this
 * interceptor.
 *
 * <p>Identity comes from the activity's input, a record with a {@code nodeId} and, for
 * per-group steps, a {@code groupId} component (every joinflow activity input is one), and
 * from the activity info for the workflow id.
 */
public final class ActivityLogInterceptor extends WorkerInterceptorBase {
  /** MDC key of the node an activity works for (unsigned decimal). */
  public static final String NODE = "node";
  /** MDC key of the workflow id of the activity's workflow. */
  public static final String WORKFLOW = "workflow";
  /** MDC key of the group of a per-group step. */
  public static final String GROUP = "group";

  private static final Logger LOG = LoggerFactory.getLogger(ActivityLogInterceptor.class);

  /** Per input type, its {@code nodeId} and {@code groupId} accessors (either may be null). */
  private static final ClassValue<Method[]> ACCESSORS = new ClassValue<>() {
    @Override
    protected Method[] computeValue(Class<?> type) {
      Method[] found = new Method[2];
      if (type.isRecord()) {
        for (RecordComponent c : type.getRecordComponents()) {
          if (c.getName().equals("nodeId")) {
            found[0] = c.getAccessor();
          } else if (c.getName().equals("groupId")) {
            found[1] = c.getAccessor();
          }
        }
      }
      return found;
    }
  };

  @Override
  public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
    return new Inbound(next);
  }

  /** Who an attempt works for, as its log line and the MDC show it. */
  record Identity(String node, String workflow, String activity, String group, int attempt) {
    static Identity of(ActivityInfo info, Object[] arguments) {
      String node = null;
      String group = null;
      if (arguments.length > 0 && arguments[0] != null) {
        Object input = arguments[0];
        Method[] accessors = ACCESSORS.get(input.getClass());
        node = read(accessors[0], input);
        group = read(accessors[1], input);
      }
      return new Identity(node, info.getWorkflowId(), info.getActivityType(), group, info.getAttempt());
    }

    private static String read(Method accessor, Object input) {
      if (accessor == null) {
        return null;
      }
      try {
        Object value = accessor.invoke(input);
        return value instanceof Long l ? Long.toUnsignedString(l) : String.valueOf(value);
      } catch (ReflectiveOperationException e) {
        return null;
      }
    }

    /** "node 4 join/123/4 addLearner group 3 attempt 2", leaving out what is unknown. */
    String describe() {
      StringBuilder s = new StringBuilder();
      if (node != null) {
        s.append("node ").append(node).append(' ');
      }
      if (workflow != null) {
        s.append(workflow).append(' ');
      }
      s.append(activity);
      if (group != null) {
        s.append(" group ").append(group);
      }
      return s.append(" attempt ").append(attempt).toString();
    }
  }

  private static final class Inbound extends ActivityInboundCallsInterceptorBase {
    private ActivityInfo info;

    Inbound(ActivityInboundCallsInterceptor next) {
      super(next);
    }

    @Override
    public void init(ActivityExecutionContext context) {
      info = context.getInfo();
      super.init(context);
    }

    @Override
    public ActivityOutput execute(ActivityInput input) {
      Identity id = Identity.of(info, input.getArguments());
      String[] before = {MDC.get(NODE), MDC.get(WORKFLOW), MDC.get(GROUP)};
      put(NODE, id.node());
      put(WORKFLOW, id.workflow());
      put(GROUP, id.group());
      try {
        ActivityOutput output = super.execute(input);
        if (id.attempt() > 1) {
          LOG.info("{} succeeded", id.describe());
        }
        return output;
      } catch (ApplicationFailure f) {
        LOG.warn("{} failed ({}{}): {}", id.describe(), f.getType(), f.isNonRetryable() ? ", not retryable" : "",
            oneLine(f.getOriginalMessage()));
        throw f;
      } catch (ActivityCompletionException e) {
        // Canceled, or its workflow is gone: Temporal stopped wanting the result.
        LOG.info("{} stopped: {}", id.describe(), oneLine(String.valueOf(e.getMessage())));
        throw e;
      } catch (RuntimeException | Error e) {
        LOG.error("{} failed unexpectedly: {}", id.describe(), oneLine(String.valueOf(e)), e);
        throw e;
      } finally {
        put(NODE, before[0]);
        put(WORKFLOW, before[1]);
        put(GROUP, before[2]);
      }
    }
  }

  private static void put(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ");
  }
}
