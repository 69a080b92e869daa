//! CloudFormation: a SAM app of ten functions (each on an HTTP API route, five fed by
//! their own queue) deployed from nothing, then updated with one function's code changed,
//! each timed from the API call to the stack's `*_COMPLETE` (DescribeStacks polled every
//! 5 ms). LocalStack cannot run on this machine (no Docker), so it is not measured beside.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use bytes::Bytes;

use super::{percentile, sorted, Conn, Row, Server, Settings};

/// The app's template; `version` goes into the first function's code.
fn template(version: u32) -> String {
    let mut t = String::from("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: python3.12\n    Handler: index.handler\nResources:\n");
    for i in 0..10 {
        let v = if i == 0 { version } else { 0 };
        t += &format!(
            "  Fn{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      InlineCode: \"def handler(event, context):\\n    return {{'fn': {i}, 'version': {v}}}\\n\"\n      Events:\n        Route:\n          Type: HttpApi\n          Properties: {{Path: /fn{i}, Method: get}}\n"
        );
        if i < 5 {
            t +=
                &format!("        Work:\n          Type: SQS\n          Properties: {{Queue: !GetAtt Queue{i}.Arn}}\n");
        }
    }
    for i in 0..5 {
        t += &format!("  Queue{i}:\n    Type: AWS::SQS::Queue\n");
    }
    t
}

fn form(pairs: &[(&str, &str)]) -> Bytes {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, v);
    }
    Bytes::from(out.finish())
}

async fn call(conn: &mut Conn, pairs: &[(&str, &str)]) -> Result<String> {
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let (status, body) = conn.call_with("POST", "/", &headers, form(pairs)).await?;
    let text = String::from_utf8_lossy(&body).into_owned();
    if status != 200 {
        bail!("CloudFormation {}: {status} {text}", pairs[0].1);
    }
    Ok(text)
}

/// Waits for the stack's status to end `_COMPLETE`; the time since `start`, ms.
async fn settle(conn: &mut Conn, name: &str, want: &str, start: Instant) -> Result<f64> {
    loop {
        let out = call(conn, &[("Action", "DescribeStacks"), ("StackName", name)]).await?;
        if out.contains(&format!("<StackStatus>{want}</StackStatus>")) {
            return Ok(start.elapsed().as_secs_f64() * 1000.0);
        }
        if out.contains("FAILED</StackStatus>") || out.contains("ROLLBACK") {
            bail!("stack {name} did not reach {want}: {out}");
        }
        if start.elapsed() > Duration::from_secs(120) {
            bail!("stack {name} did not reach {want} in 2 minutes");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `(create ms, update ms, resources)` of one app.
async fn deploy_and_update(conn: &mut Conn, name: &str) -> Result<(f64, f64, usize)> {
    let caps = [("Capabilities.member.1", "CAPABILITY_IAM"), ("Capabilities.member.2", "CAPABILITY_AUTO_EXPAND")];
    let body = template(1);
    let start = Instant::now();
    let mut pairs = vec![("Action", "CreateStack"), ("StackName", name), ("TemplateBody", body.as_str())];
    pairs.extend(caps);
    call(conn, &pairs).await?;
    let create = settle(conn, name, "CREATE_COMPLETE", start).await?;
    let listed = call(conn, &[("Action", "ListStackResources"), ("StackName", name)]).await?;
    let resources = listed.matches("<LogicalResourceId>").count();
    let body = template(2);
    let start = Instant::now();
    let mut pairs = vec![("Action", "UpdateStack"), ("StackName", name), ("TemplateBody", body.as_str())];
    pairs.extend(caps);
    call(conn, &pairs).await?;
    let update = settle(conn, name, "UPDATE_COMPLETE", start).await?;
    call(conn, &[("Action", "DeleteStack"), ("StackName", name)]).await?;
    Ok((create, update, resources))
}

pub(super) async fn rows(server: &Server, settings: &Settings) -> Result<Vec<Row>> {
    let mut conn = Conn::open(server.addr).await?;
    let (mut creates, mut updates, mut count) = (Vec::new(), Vec::new(), 0);
    for round in 0..settings.throughput_rounds.max(3) {
        eprintln!("cloudformation: app {round}");
        let (c, u, n) = deploy_and_update(&mut conn, &format!("bench-app-{round}")).await?;
        creates.push(c);
        updates.push(u);
        count = n;
    }
    let (creates, updates) = (sorted(creates), sorted(updates));
    let (create, update) = (percentile(&creates, 0.5), percentile(&updates, 0.5));
    let spread = |v: &[f64]| format!("min {:.0}, max {:.0} ms over {} stacks", v[0], v[v.len() - 1], v.len());
    Ok(vec![
        Row {
            what: format!("CloudFormation: a SAM app of 10 functions, an HTTP API and 5 queues ({count} resources) created, CreateStack to CREATE_COMPLETE"),
            median: format!("{create:.0} ms"),
            spread: spread(&creates),
            target: "< 5 s (LocalStack: tens of seconds; not runnable here, it needs Docker)".into(),
            ratio: format!("{:.2}× target", create / 5000.0),
        },
        Row {
            what: "CloudFormation: the same app updated with one function's code changed, UpdateStack to UPDATE_COMPLETE".into(),
            median: format!("{update:.0} ms"),
            spread: spread(&updates),
            target: "< 1 s".into(),
            ratio: format!("{:.2}× target", update / 1000.0),
        },
    ])
}
