package com.amazonaws.services.lambda.runtime;

public interface RequestStreamHandler {
    void handleRequest(java.io.InputStream input, java.io.OutputStream output, Context context) throws java.io.IOException;
}
