package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;

public class Queue implements RequestHandler<SQSEvent, String> {
    public String handleRequest(SQSEvent event, Context context) {
        StringBuilder b = new StringBuilder();
        for (SQSEvent.SQSMessage m : event.getRecords()) {
            b.append(m.getMessageId()).append('=').append(m.getBody()).append('@').append(m.getEventSourceArn())
                    .append(" attr=").append(m.getMessageAttributes().get("kind").getStringValue())
                    .append(" count=").append(m.getAttributes().get("ApproximateReceiveCount")).append(';');
        }
        return b.toString();
    }
}
