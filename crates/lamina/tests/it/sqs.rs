//! SQS through the whole server: FIFO order and deduplication, visibility timeouts, and
//! redrive to a dead-letter queue, with the server's clock moved instead of waited on.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::harness::TestEnv;

fn bodies(messages: &[serde_json::Value]) -> Vec<&str> {
    messages.iter().map(|m| m["Body"].as_str().unwrap_or("")).collect()
}

#[tokio::test]
async fn fifo_groups_keep_their_order_and_duplicates_are_dropped_for_five_minutes() {
    let env = TestEnv::builder().start().await;
    let url = env.queue("jobs.fifo", json!({ "FifoQueue": "true", "ContentBasedDeduplication": "true" })).await;
    for (group, body) in [("a", "a1"), ("b", "b1"), ("a", "a2"), ("a", "a3")] {
        env.sqs("SendMessage", json!({ "QueueUrl": url, "MessageBody": body, "MessageGroupId": group })).await;
    }
    let got = env.receive(&url, 10, 0).await;
    let mut by_group: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in &got {
        by_group
            .entry(m["Attributes"]["MessageGroupId"].as_str().unwrap_or(""))
            .or_default()
            .push(m["Body"].as_str().unwrap_or(""));
    }
    assert_eq!(by_group, BTreeMap::from([("a", vec!["a1", "a2", "a3"]), ("b", vec!["b1"])]));
    // While a group's messages are in flight, nothing of it is handed out again.
    assert!(env.receive(&url, 10, 0).await.is_empty());
    for m in &got {
        env.sqs("DeleteMessage", json!({ "QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"] })).await;
    }

    // The same content within five minutes is a duplicate: accepted, never delivered.
    env.sqs("SendMessage", json!({ "QueueUrl": url, "MessageBody": "a1", "MessageGroupId": "a" })).await;
    assert!(env.receive(&url, 10, 0).await.is_empty());
    env.advance_clock(Duration::from_secs(301)).await;
    env.sqs("SendMessage", json!({ "QueueUrl": url, "MessageBody": "a1", "MessageGroupId": "a" })).await;
    assert_eq!(bodies(&env.receive(&url, 10, 0).await), ["a1"]);
    env.stop().await;
}

#[tokio::test]
async fn a_message_not_deleted_comes_back_once_its_visibility_timeout_passes() {
    let env = TestEnv::builder().start().await;
    let url = env.queue("work", json!({ "VisibilityTimeout": "30" })).await;
    env.sqs("SendMessage", json!({ "QueueUrl": url, "MessageBody": "job" })).await;
    let first = env.receive(&url, 1, 0).await;
    assert_eq!(bodies(&first), ["job"]);
    assert_eq!(first[0]["Attributes"]["ApproximateReceiveCount"], "1");
    assert!(env.receive(&url, 1, 0).await.is_empty(), "invisible for 30 s");

    env.advance_clock(Duration::from_secs(31)).await;
    let again = env.receive(&url, 1, 0).await;
    assert_eq!(bodies(&again), ["job"]);
    assert_eq!(again[0]["Attributes"]["ApproximateReceiveCount"], "2");
    assert_ne!(again[0]["ReceiptHandle"], first[0]["ReceiptHandle"]);
    // The first receipt no longer changes anything; the second deletes it.
    env.sqs("DeleteMessage", json!({ "QueueUrl": url, "ReceiptHandle": again[0]["ReceiptHandle"] })).await;
    env.advance_clock(Duration::from_secs(31)).await;
    assert!(env.receive(&url, 1, 0).await.is_empty());
    env.stop().await;
}

#[tokio::test]
async fn past_max_receive_count_a_message_moves_to_the_dead_letter_queue() {
    let env = TestEnv::builder().start().await;
    let dlq = env.queue("work-dlq", json!({})).await;
    let dlq_arn = env.queue_arn(&dlq).await;
    let policy = json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2 }).to_string();
    let url = env.queue("work", json!({ "VisibilityTimeout": "10", "RedrivePolicy": policy })).await;
    env.sqs("SendMessage", json!({ "QueueUrl": url, "MessageBody": "poison" })).await;
    for _ in 0..2 {
        assert_eq!(bodies(&env.receive(&url, 1, 0).await), ["poison"]);
        env.advance_clock(Duration::from_secs(11)).await;
    }
    assert!(env.receive(&url, 1, 0).await.is_empty(), "the third receive moves it instead");
    let dead = env.receive(&dlq, 1, 0).await;
    assert_eq!(bodies(&dead), ["poison"]);
    let sources = env.sqs("ListDeadLetterSourceQueues", json!({ "QueueUrl": dlq })).await;
    assert_eq!(sources["queueUrls"], json!([url]));
    env.stop().await;
}
