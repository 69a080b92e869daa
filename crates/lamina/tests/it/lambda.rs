//! Lambda through the whole server: synchronous invokes, function errors, and an alias
//! routing its invocations between two versions by weight.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use crate::harness::TestEnv;

/// Waits until the function's last update has been prepared (AWS's `function_updated`).
async fn updated(env: &TestEnv, name: &str) {
    for _ in 0..400 {
        let got = env.lambda("GET", &format!("/2015-03-31/functions/{name}/configuration"), json!(null)).await;
        if got.body["LastUpdateStatus"] == "Successful" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{name}'s update never finished");
}

#[tokio::test]
async fn an_invoke_answers_the_event_and_a_failure_answers_awss_error_shape() {
    let env = TestEnv::builder().start().await;
    let created = env.echo_function("echo").await;
    assert_eq!(created["Runtime"], "provided.al2023");
    let answer = env.invoke("echo", json!({ "hello": "world" })).await;
    assert_eq!((answer.status, answer.body.clone()), (200, json!({ "hello": "world" })));
    assert_eq!(answer.header("x-amz-executed-version"), Some("$LATEST"));
    assert_eq!(answer.header("x-amz-function-error"), None);

    let failed = env.invoke("echo", json!({ "please": "fail" })).await;
    assert_eq!(failed.status, 200);
    assert_eq!(failed.header("x-amz-function-error"), Some("Unhandled"));
    assert_eq!(failed.body["errorType"], "TestFailure");
    assert_eq!(failed.body["errorMessage"], "asked to fail");

    let missing = env.invoke("nobody", json!({})).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("x-amzn-errortype"), Some("ResourceNotFoundException"));
    env.stop().await;
}

#[tokio::test]
async fn an_alias_with_routing_runs_both_of_its_versions() {
    let env = TestEnv::builder().start().await;
    env.echo_function("routed").await;
    let v1 = env.lambda("POST", "/2015-03-31/functions/routed/versions", json!({})).await;
    assert_eq!((v1.status, v1.body["Version"].clone()), (201, json!("1")));
    let changed =
        env.lambda("PUT", "/2015-03-31/functions/routed/configuration", json!({ "Description": "second" })).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    updated(&env, "routed").await;
    let v2 = env.lambda("POST", "/2015-03-31/functions/routed/versions", json!({})).await;
    assert_eq!((v2.status, v2.body["Version"].clone()), (201, json!("2")));
    let alias = json!({
        "Name": "live", "FunctionVersion": "1",
        "RoutingConfig": { "AdditionalVersionWeights": { "2": 0.5 } },
    });
    let created = env.lambda("POST", "/2015-03-31/functions/routed/aliases", alias).await;
    assert_eq!(created.status, 201, "{}", created.body);

    let mut ran = BTreeSet::new();
    for _ in 0..40 {
        let answer = env.invoke("routed:live", json!({ "say": "version" })).await;
        assert_eq!(answer.status, 200);
        let version = answer.body.as_str().unwrap_or("").to_owned();
        // The version that ran is the one the header names.
        assert_eq!(answer.header("x-amz-executed-version"), Some(version.as_str()));
        ran.insert(version);
    }
    assert_eq!(ran, BTreeSet::from(["1".to_owned(), "2".to_owned()]));
    env.stop().await;
}
