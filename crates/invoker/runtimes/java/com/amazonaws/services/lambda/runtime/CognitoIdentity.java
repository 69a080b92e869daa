package com.amazonaws.services.lambda.runtime;

/** The Amazon Cognito identity an invocation may carry. */
public interface CognitoIdentity {
    String getIdentityId();

    String getIdentityPoolId();
}
