package com.amazonaws.services.lambda.runtime;

/** The mobile application that invoked the function. */
public interface Client {
    String getInstallationId();

    String getAppTitle();

    String getAppVersionName();

    String getAppVersionCode();

    String getAppPackageName();
}
