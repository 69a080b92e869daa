// Shaped as aws-lambda-java-events' SQSEvent is: bean properties whose names differ from the
// event's JSON keys in case only (Records, eventSourceARN).
package com.amazonaws.services.lambda.runtime.events;

import java.util.List;
import java.util.Map;

public class SQSEvent {
    private List<SQSMessage> records;

    public List<SQSMessage> getRecords() { return records; }
    public void setRecords(List<SQSMessage> records) { this.records = records; }

    public static class MessageAttribute {
        private String stringValue;
        private String dataType;

        public String getStringValue() { return stringValue; }
        public void setStringValue(String stringValue) { this.stringValue = stringValue; }
        public String getDataType() { return dataType; }
        public void setDataType(String dataType) { this.dataType = dataType; }
    }

    public static class SQSMessage {
        private String messageId;
        private String receiptHandle;
        private String body;
        private String eventSourceArn;
        private String awsRegion;
        private Map<String, String> attributes;
        private Map<String, MessageAttribute> messageAttributes;

        public String getMessageId() { return messageId; }
        public void setMessageId(String messageId) { this.messageId = messageId; }
        public String getReceiptHandle() { return receiptHandle; }
        public void setReceiptHandle(String receiptHandle) { this.receiptHandle = receiptHandle; }
        public String getBody() { return body; }
        public void setBody(String body) { this.body = body; }
        public String getEventSourceArn() { return eventSourceArn; }
        public void setEventSourceArn(String eventSourceArn) { this.eventSourceArn = eventSourceArn; }
        public String getAwsRegion() { return awsRegion; }
        public void setAwsRegion(String awsRegion) { this.awsRegion = awsRegion; }
        public Map<String, String> getAttributes() { return attributes; }
        public void setAttributes(Map<String, String> attributes) { this.attributes = attributes; }
        public Map<String, MessageAttribute> getMessageAttributes() { return messageAttributes; }
        public void setMessageAttributes(Map<String, MessageAttribute> messageAttributes) { this.messageAttributes = messageAttributes; }
    }
}
