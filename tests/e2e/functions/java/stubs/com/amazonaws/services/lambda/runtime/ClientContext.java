package com.amazonaws.services.lambda.runtime;

public interface ClientContext {
    Client getClient();
    java.util.Map<String, String> getCustom();
    java.util.Map<String, String> getEnvironment();
}
