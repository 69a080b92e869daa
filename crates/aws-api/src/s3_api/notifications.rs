//! PutBucketNotificationConfiguration's and GetBucketNotificationConfiguration's
//! documents, to and from the service's [`Notifications`].

use s3::{Destination, Notifications};
use serde_json::{json, Value};

/// Each kind's list and ARN member, in the model's names.
const KINDS: [(&str, &str); 3] = [
    ("QueueConfigurations", "QueueArn"),
    ("TopicConfigurations", "TopicArn"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
];

/// A `NotificationConfiguration` input tree, read.
pub(super) fn read(v: &Value) -> Notifications {
    let list = |(member, arn): (&str, &str)| -> Vec<Destination> {
        let items = v.get(member).and_then(Value::as_array);
        items.into_iter().flatten().map(|c| destination(c, arn)).collect()
    };
    Notifications {
        queues: list(KINDS[0]),
        topics: list(KINDS[1]),
        functions: list(KINDS[2]),
        eventbridge: v.get("EventBridgeConfiguration").is_some(),
    }
}

fn destination(c: &Value, arn: &str) -> Destination {
    let text = |v: &Value, m: &str| v.get(m).and_then(Value::as_str).unwrap_or_default().to_owned();
    let rules = c.pointer("/Filter/Key/FilterRules").and_then(Value::as_array);
    Destination {
        id: text(c, "Id"),
        arn: text(c, arn),
        events: c
            .get("Events")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        rules: rules.into_iter().flatten().map(|r| (text(r, "Name"), text(r, "Value"))).collect(),
    }
}

/// GetBucketNotificationConfiguration's output tree.
pub(super) fn write(n: &Notifications) -> Value {
    let mut out = serde_json::Map::new();
    for ((member, arn), list) in KINDS.into_iter().zip([&n.queues, &n.topics, &n.functions]) {
        if list.is_empty() {
            continue;
        }
        let items: Vec<Value> = list
            .iter()
            .map(|d| {
                let mut c = json!({ "Id": d.id, arn: d.arn, "Events": d.events });
                if !d.rules.is_empty() {
                    let rules: Vec<Value> = d.rules.iter().map(|(n, v)| json!({ "Name": n, "Value": v })).collect();
                    c["Filter"] = json!({ "Key": { "FilterRules": rules } });
                }
                c
            })
            .collect();
        out.insert(member.to_owned(), Value::Array(items));
    }
    if n.eventbridge {
        out.insert("EventBridgeConfiguration".into(), json!({}));
    }
    Value::Object(out)
}
