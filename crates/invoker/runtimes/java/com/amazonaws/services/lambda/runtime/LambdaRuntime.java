package com.amazonaws.services.lambda.runtime;

/** The function's logger, outside of a handler's context. */
public final class LambdaRuntime {
    private LambdaRuntime() {
    }

    private static volatile LambdaLogger logger = new LambdaLogger() {
        public void log(String message) {
            System.out.print(message);
        }

        public void log(byte[] message) {
            System.out.write(message, 0, message.length);
        }
    };

    public static LambdaLogger getLogger() {
        return logger;
    }

    /** Called once by the runtime client to route the logger through its own writer. */
    public static void setLogger(LambdaLogger replacement) {
        logger = replacement;
    }
}
