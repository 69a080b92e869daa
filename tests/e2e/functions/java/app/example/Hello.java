package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class Hello implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    private static final List<byte[]> HOARD = new ArrayList<>();

    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        context.getLogger().log("java got " + event);
        if (event.containsKey("sleep")) {
            try {
                Thread.sleep(((Number) event.get("sleep")).longValue());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (event.containsKey("hoard")) {
            while (true) {
                HOARD.add(new byte[1 << 20]);
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("event", event);
        out.put("requestId", context.getAwsRequestId());
        out.put("arn", context.getInvokedFunctionArn());
        out.put("function", List.of(context.getFunctionName(), context.getFunctionVersion(), context.getMemoryLimitInMB()));
        out.put("log", List.of(context.getLogGroupName(), context.getLogStreamName()));
        out.put("remaining", context.getRemainingTimeInMillis());
        out.put("greeting", System.getenv("GREETING"));
        out.put("toolOption", System.getProperty("lamina.test"));
        out.put("maxHeap", Runtime.getRuntime().maxMemory());
        out.put("javaVersion", System.getProperty("java.specification.version"));
        return out;
    }
}
