package com.amazonaws.services.lambda.runtime;

/** A handler whose input and output the runtime converts from and to JSON. */
public interface RequestHandler<I, O> {
    O handleRequest(I input, Context context);
}
