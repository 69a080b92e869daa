//! Templates of AWS services' events, for emitting what Lamina does not run itself (EC2,
//! Auto Scaling, ECS, CodePipeline) or to stand in for S3's: each a source, a detail
//! type, a default detail and its resources, in the shapes AWS documents. `{account}`,
//! `{region}`, `{id}` (a fresh instance-like id) and `{time}` are filled when emitted; a
//! detail given with the template is merged over its default.

use serde_json::{json, Value};

/// One template.
#[derive(Debug, Clone)]
pub struct Template {
    /// Its name (`ec2-instance-state-change`).
    pub name: &'static str,
    /// `source`.
    pub source: &'static str,
    /// `detail-type`.
    pub detail_type: &'static str,
    /// `resources`, with placeholders.
    pub resources: Vec<String>,
    /// The default `detail`, with placeholders.
    pub detail: Value,
}

/// Every template.
pub fn templates() -> Vec<Template> {
    vec![
        Template {
            name: "ec2-instance-state-change",
            source: "aws.ec2",
            detail_type: "EC2 Instance State-change Notification",
            resources: vec!["arn:aws:ec2:{region}:{account}:instance/i-{id}".into()],
            detail: json!({ "instance-id": "i-{id}", "state": "running" }),
        },
        Template {
            name: "autoscaling-launch-lifecycle-action",
            source: "aws.autoscaling",
            detail_type: "EC2 Instance-launch Lifecycle Action",
            resources: vec![
                "arn:aws:autoscaling:{region}:{account}:autoScalingGroup:{uuid}:autoScalingGroupName/my-asg".into(),
            ],
            detail: json!({
                "LifecycleActionToken": "{uuid}",
                "AutoScalingGroupName": "my-asg",
                "LifecycleHookName": "my-launch-hook",
                "EC2InstanceId": "i-{id}",
                "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
                "NotificationMetadata": "",
                "Origin": "EC2",
                "Destination": "AutoScalingGroup",
            }),
        },
        Template {
            name: "autoscaling-terminate-lifecycle-action",
            source: "aws.autoscaling",
            detail_type: "EC2 Instance-terminate Lifecycle Action",
            resources: vec![
                "arn:aws:autoscaling:{region}:{account}:autoScalingGroup:{uuid}:autoScalingGroupName/my-asg".into(),
            ],
            detail: json!({
                "LifecycleActionToken": "{uuid}",
                "AutoScalingGroupName": "my-asg",
                "LifecycleHookName": "my-terminate-hook",
                "EC2InstanceId": "i-{id}",
                "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
                "NotificationMetadata": "",
                "Origin": "AutoScalingGroup",
                "Destination": "EC2",
            }),
        },
        Template {
            name: "s3-object-created",
            source: "aws.s3",
            detail_type: "Object Created",
            resources: vec!["arn:aws:s3:::my-bucket".into()],
            detail: json!({
                "version": "0",
                "bucket": { "name": "my-bucket" },
                "object": { "key": "my-key", "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "00617F08299329D189" },
                "request-id": "N4N7GDK58NMKJ12R",
                "requester": "{account}",
                "source-ip-address": "127.0.0.1",
                "reason": "PutObject",
            }),
        },
        Template {
            name: "ecs-task-state-change",
            source: "aws.ecs",
            detail_type: "ECS Task State Change",
            resources: vec!["arn:aws:ecs:{region}:{account}:task/my-cluster/{hex}".into()],
            detail: json!({
                "clusterArn": "arn:aws:ecs:{region}:{account}:cluster/my-cluster",
                "taskArn": "arn:aws:ecs:{region}:{account}:task/my-cluster/{hex}",
                "taskDefinitionArn": "arn:aws:ecs:{region}:{account}:task-definition/my-task:1",
                "group": "family:my-task",
                "launchType": "FARGATE",
                "lastStatus": "RUNNING",
                "desiredStatus": "RUNNING",
                "containers": [{
                    "containerArn": "arn:aws:ecs:{region}:{account}:container/my-cluster/{hex}/{uuid}",
                    "name": "app",
                    "lastStatus": "RUNNING",
                    "taskArn": "arn:aws:ecs:{region}:{account}:task/my-cluster/{hex}",
                }],
                "createdAt": "{time}",
                "startedAt": "{time}",
                "version": 2,
            }),
        },
        Template {
            name: "codepipeline-pipeline-execution-state-change",
            source: "aws.codepipeline",
            detail_type: "CodePipeline Pipeline Execution State Change",
            resources: vec!["arn:aws:codepipeline:{region}:{account}:my-pipeline".into()],
            detail: json!({
                "pipeline": "my-pipeline",
                "execution-id": "{uuid}",
                "execution-trigger": { "trigger-type": "StartPipelineExecution", "trigger-detail": "arn:aws:sts::{account}:assumed-role/deployer" },
                "state": "SUCCEEDED",
                "version": 1.0,
                "pipeline-execution-attempt": 1.0,
            }),
        },
    ]
}

/// The template of that name.
pub fn template(name: &str) -> Option<Template> {
    templates().into_iter().find(|t| t.name == name)
}

/// Fills a template's placeholders in every string of `v`.
pub fn fill(v: &Value, vars: &[(&str, &str)]) -> Value {
    match v {
        Value::String(s) => {
            let mut s = s.clone();
            for (k, val) in vars {
                s = s.replace(&format!("{{{k}}}"), val);
            }
            Value::String(s)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| fill(i, vars)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, i)| (k.clone(), fill(i, vars))).collect()),
        v => v.clone(),
    }
}

/// `over` merged into `base`: objects key by key, anything else replaced.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_and_merge_what_is_given() {
        let t = template("ec2-instance-state-change").unwrap();
        let mut detail = fill(&t.detail, &[("id", "0abc"), ("account", "111122223333")]);
        merge(&mut detail, json!({ "state": "stopped" }));
        assert_eq!(detail, json!({ "instance-id": "i-0abc", "state": "stopped" }));
        assert_eq!(templates().len(), 6);
        assert!(templates().iter().all(|t| t.source.starts_with("aws.")));
    }
}
