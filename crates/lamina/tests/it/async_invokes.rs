//! Asynchronous invocations through the whole server: retries on the configured delays,
//! destinations for success and failure, and events that outlive their maximum age (the
//! server's clock moved forward instead of waited on).

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::TestEnv;

/// Sends an `Event` invocation and checks it was accepted.
async fn invoke_event(env: &TestEnv, name: &str, event: Value) {
    let path = format!("/2015-03-31/functions/{name}/invocations");
    let headers = [("content-type", "application/json"), ("x-amz-invocation-type", "Event")];
    let answer = env.request("lambda", "POST", &path, &headers, event.to_string().into_bytes()).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
}

/// The one destination record `url` gets, waited for by long polling.
async fn record(env: &TestEnv, url: &str) -> Value {
    for _ in 0..3 {
        if let Some(m) = env.receive(url, 1, 20).await.first() {
            return serde_json::from_str(m["Body"].as_str().unwrap_or("")).expect("a JSON record");
        }
    }
    panic!("no destination record reached {url}");
}

#[tokio::test]
async fn a_failing_event_is_retried_then_its_record_goes_to_the_failure_destination() {
    let env = TestEnv::builder().retry_delays(&[0.0]).start().await;
    env.echo_function("worker").await;
    let failures = env.queue("failures", json!({})).await;
    let successes = env.queue("successes", json!({})).await;
    let config = json!({
        "MaximumRetryAttempts": 1,
        "DestinationConfig": {
            "OnFailure": { "Destination": env.queue_arn(&failures).await },
            "OnSuccess": { "Destination": env.queue_arn(&successes).await },
        },
    });
    let put = env.lambda("PUT", "/2019-09-25/functions/worker/event-invoke-config", config).await;
    assert_eq!(put.status, 200, "{}", put.body);

    invoke_event(&env, "worker", json!({ "please": "fail" })).await;
    let failed = record(&env, &failures).await;
    assert_eq!(failed["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(failed["requestContext"]["approximateInvokeCount"], 2);
    assert_eq!(failed["requestPayload"], json!({ "please": "fail" }));
    assert_eq!(failed["responseContext"]["functionError"], "Unhandled");
    assert_eq!(failed["responsePayload"]["errorType"], "TestFailure");

    invoke_event(&env, "worker", json!({ "n": 1 })).await;
    let succeeded = record(&env, &successes).await;
    assert_eq!(succeeded["requestContext"]["condition"], "Success");
    assert_eq!(succeeded["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(succeeded["responsePayload"], json!({ "n": 1 }));
    assert_eq!(succeeded["responseContext"]["executedVersion"], "$LATEST");
    env.stop().await;
}

#[tokio::test]
async fn an_event_older_than_its_maximum_age_is_not_run_again() {
    // The first retry would come after 100 s; the event may live 60.
    let env = TestEnv::builder().retry_delays(&[100.0]).start().await;
    env.echo_function("aging").await;
    let failures = env.queue("expired", json!({})).await;
    let config = json!({
        "MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 2,
        "DestinationConfig": { "OnFailure": { "Destination": env.queue_arn(&failures).await } },
    });
    let put = env.lambda("PUT", "/2019-09-25/functions/aging/event-invoke-config", config).await;
    assert_eq!(put.status, 200, "{}", put.body);

    invoke_event(&env, "aging", json!({ "please": "fail" })).await;
    // Moving the clock while the first attempt runs only reschedules its retry from the
    // moved time, so the clock moves again until the event's age is found exceeded.
    let mut expired = None;
    for _ in 0..10 {
        env.advance_clock(Duration::from_secs(200)).await;
        if let Some(m) = env.receive(&failures, 1, 2).await.first() {
            expired = serde_json::from_str::<Value>(m["Body"].as_str().unwrap_or("")).ok();
            break;
        }
    }
    let expired = expired.expect("a record of the expired event");
    assert_eq!(expired["requestContext"]["condition"], "EventAgeExceeded");
    assert_eq!(expired["requestPayload"], json!({ "please": "fail" }));
    env.stop().await;
}
