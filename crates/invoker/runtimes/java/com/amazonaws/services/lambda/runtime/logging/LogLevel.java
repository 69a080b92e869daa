package com.amazonaws.services.lambda.runtime.logging;

/** Levels of the function's application log. */
public enum LogLevel {
    UNDEFINED, TRACE, DEBUG, INFO, WARN, ERROR, FATAL;

    public static LogLevel fromString(String logLevel) {
        try {
            return LogLevel.valueOf(logLevel.toUpperCase());
        } catch (Exception e) {
            throw new IllegalArgumentException("Invalid log level: '" + logLevel + "' expected one of [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]");
        }
    }
}
