// Stand-in for aws-lambda-java-core, which the function is compiled against and does not ship.
package com.amazonaws.services.lambda.runtime;

public interface Context {
    String getAwsRequestId();
    String getLogGroupName();
    String getLogStreamName();
    String getFunctionName();
    String getFunctionVersion();
    String getInvokedFunctionArn();
    CognitoIdentity getIdentity();
    ClientContext getClientContext();
    int getRemainingTimeInMillis();
    int getMemoryLimitInMB();
    LambdaLogger getLogger();
}
