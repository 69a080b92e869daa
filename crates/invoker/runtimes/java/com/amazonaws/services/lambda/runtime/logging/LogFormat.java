package com.amazonaws.services.lambda.runtime.logging;

/** The function's log format. */
public enum LogFormat {
    JSON, TEXT;

    public static LogFormat fromString(String logFormat) {
        try {
            return LogFormat.valueOf(logFormat.toUpperCase());
        } catch (Exception e) {
            throw new IllegalArgumentException("Invalid log format: '" + logFormat + "' expected one of [JSON, TEXT]");
        }
    }
}
