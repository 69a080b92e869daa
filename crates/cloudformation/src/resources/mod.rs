//! The resource types Lamina serves, each a provider that makes, updates and deletes its
//! resources through the services' own operations ([`Operations`]), and says what its
//! `Ref` and `Fn::GetAtt` answer, which property changes replace it, and how it is named
//! when the template names it not.

mod apigateway;
mod dynamodb;
mod ecr;
mod events;
mod iam;
mod lambda;
mod logs;
mod plumbing;
mod s3;
mod sns;
mod sqs;
mod ssm;

use serde_json::{json, Map, Value};

use crate::operations::{Acting, OperationError, Operations};
use crate::stack::Resource;

/// How a type's resources are named when the template gives no name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// The service chooses (or the name is not a property).
    Service,
    /// CloudFormation writes `{stack}-{logical}-{random}` into `property`, at most `max`
    /// characters (lowercase where `lower`).
    Generated {
        /// The property the name goes in.
        property: &'static str,
        /// Its longest.
        max: usize,
        /// Whether names must be lowercase (S3 buckets).
        lower: bool,
    },
}

/// What Lamina knows of a resource type.
#[derive(Debug)]
pub struct Kind {
    /// `AWS::Service::Thing`.
    pub name: &'static str,
    /// The attributes `Fn::GetAtt` reads.
    pub attributes: &'static [&'static str],
    /// The properties whose change replaces the resource.
    pub replace_on: &'static [&'static str],
    /// How it is named.
    pub naming: Naming,
    /// Whether it is recorded without effect (deploy tools' own plumbing).
    pub recorded_only: bool,
    /// Whether its properties change in place (else any change replaces it).
    pub in_place: bool,
}

const fn kind(
    name: &'static str,
    attributes: &'static [&'static str],
    replace_on: &'static [&'static str],
    naming: Naming,
) -> Kind {
    Kind { name, attributes, replace_on, naming, recorded_only: false, in_place: true }
}

/// A type whose every change replaces it.
const fn replaced(name: &'static str, attributes: &'static [&'static str]) -> Kind {
    Kind { name, attributes, replace_on: &[], naming: Naming::Service, recorded_only: false, in_place: false }
}

/// A type recorded without effect.
const fn recorded(name: &'static str, attributes: &'static [&'static str]) -> Kind {
    Kind { name, attributes, replace_on: &[], naming: Naming::Service, recorded_only: true, in_place: true }
}

const fn named(property: &'static str, max: usize) -> Naming {
    Naming::Generated { property, max, lower: false }
}

/// Every type served.
pub static KINDS: &[Kind] = &[
    kind("AWS::SQS::Queue", &["Arn", "QueueName", "QueueUrl"], &["QueueName", "FifoQueue"], named("QueueName", 80)),
    kind("AWS::SQS::QueuePolicy", &["Id"], &[], Naming::Service),
    kind("AWS::SNS::Topic", &["TopicArn", "TopicName"], &["TopicName", "FifoTopic"], named("TopicName", 256)),
    kind("AWS::SNS::Subscription", &["Arn"], &["Endpoint", "Protocol", "TopicArn"], Naming::Service),
    kind("AWS::SNS::TopicPolicy", &["Id"], &[], Naming::Service),
    kind("AWS::IAM::Role", &["Arn", "RoleId"], &["RoleName", "Path"], named("RoleName", 64)),
    kind("AWS::IAM::Policy", &["Id"], &[], Naming::Service),
    kind(
        "AWS::IAM::ManagedPolicy",
        &["PolicyArn", "AttachmentCount", "CreateDate", "DefaultVersionId", "IsAttachable", "PolicyId", "UpdateDate"],
        &["ManagedPolicyName", "Path", "Description"],
        named("ManagedPolicyName", 128),
    ),
    kind("AWS::Logs::LogGroup", &["Arn"], &["LogGroupName"], named("LogGroupName", 512)),
    kind("AWS::Logs::SubscriptionFilter", &[], &["LogGroupName", "FilterName"], named("FilterName", 512)),
    kind("AWS::Events::EventBus", &["Arn", "Name"], &["Name", "EventSourceName"], Naming::Service),
    kind("AWS::Events::Rule", &["Arn"], &["Name", "EventBusName"], named("Name", 64)),
    kind("AWS::Scheduler::ScheduleGroup", &["Arn", "State"], &["Name"], named("Name", 64)),
    kind("AWS::Scheduler::Schedule", &["Arn"], &["Name", "GroupName"], named("Name", 64)),
    Kind {
        name: "AWS::Logs::LogStream",
        attributes: &[],
        replace_on: &[],
        naming: Naming::Generated { property: "LogStreamName", max: 512, lower: false },
        recorded_only: false,
        in_place: false,
    },
    kind("AWS::SSM::Parameter", &["Type", "Value"], &["Name"], Naming::Service),
    kind(
        "AWS::DynamoDB::Table",
        &["Arn", "StreamArn"],
        &["TableName", "KeySchema", "LocalSecondaryIndexes"],
        named("TableName", 255),
    ),
    kind("AWS::Kinesis::Stream", &["Arn"], &["Name"], named("Name", 128)),
    kind(
        "AWS::S3::Bucket",
        &["Arn", "DomainName", "DualStackDomainName", "RegionalDomainName", "WebsiteURL"],
        &["BucketName"],
        Naming::Generated { property: "BucketName", max: 63, lower: true },
    ),
    kind("AWS::S3::BucketPolicy", &[], &["Bucket"], Naming::Service),
    kind(
        "AWS::Lambda::Function",
        &["Arn", "SnapStartResponse", "SnapStartResponse.ApplyOn", "SnapStartResponse.OptimizationStatus"],
        &["FunctionName", "PackageType"],
        named("FunctionName", 64),
    ),
    replaced("AWS::Lambda::Permission", &[]),
    replaced("AWS::Lambda::Version", &["FunctionArn", "Version"]),
    kind("AWS::Lambda::Alias", &["AliasArn"], &["FunctionName", "Name"], Naming::Service),
    kind(
        "AWS::Lambda::EventSourceMapping",
        &["Id", "EventSourceMappingArn"],
        &["EventSourceArn", "StartingPosition", "StartingPositionTimestamp", "SelfManagedEventSource"],
        Naming::Service,
    ),
    kind("AWS::Lambda::Url", &["FunctionArn", "FunctionUrl"], &["TargetFunctionArn", "Qualifier"], Naming::Service),
    kind("AWS::Lambda::EventInvokeConfig", &[], &["FunctionName", "Qualifier"], Naming::Service),
    replaced("AWS::Lambda::LayerVersion", &["LayerVersionArn"]),
    replaced("AWS::Lambda::LayerVersionPermission", &[]),
    kind("AWS::ApiGateway::RestApi", &["RestApiId", "RootResourceId"], &[], Naming::Service),
    replaced("AWS::ApiGateway::Resource", &["ResourceId"]),
    kind("AWS::ApiGateway::Method", &[], &["RestApiId", "ResourceId", "HttpMethod"], Naming::Service),
    kind(
        "AWS::ApiGateway::Deployment",
        &["DeploymentId"],
        &["RestApiId", "DeploymentCanarySettings", "StageName", "StageDescription"],
        Naming::Service,
    ),
    kind("AWS::ApiGateway::Stage", &[], &["RestApiId", "StageName"], named("StageName", 128)),
    kind("AWS::ApiGateway::Authorizer", &["AuthorizerId"], &["RestApiId", "ProviderARNs"], Naming::Service),
    kind("AWS::ApiGateway::GatewayResponse", &[], &["RestApiId", "ResponseType"], Naming::Service),
    replaced("AWS::ApiGateway::RequestValidator", &["RequestValidatorId"]),
    replaced("AWS::ApiGateway::Model", &[]),
    replaced("AWS::ApiGateway::ApiKey", &["APIKeyId"]),
    kind("AWS::ApiGateway::UsagePlan", &["Id"], &[], Naming::Service),
    replaced("AWS::ApiGateway::UsagePlanKey", &["Id"]),
    kind("AWS::ApiGateway::Account", &["Id"], &[], Naming::Service),
    kind("AWS::ApiGatewayV2::Api", &["ApiId", "ApiEndpoint"], &["ProtocolType"], Naming::Service),
    kind("AWS::ApiGatewayV2::Stage", &[], &["ApiId", "StageName"], Naming::Service),
    kind("AWS::ApiGatewayV2::Route", &["RouteId"], &["ApiId"], Naming::Service),
    kind("AWS::ApiGatewayV2::Integration", &["IntegrationId"], &["ApiId"], Naming::Service),
    replaced("AWS::ApiGatewayV2::Deployment", &["DeploymentId"]),
    kind("AWS::ApiGatewayV2::Authorizer", &["AuthorizerId"], &["ApiId"], Naming::Service),
    kind(
        "AWS::ECR::Repository",
        &["Arn", "RepositoryUri"],
        &["RepositoryName", "EncryptionConfiguration"],
        Naming::Generated { property: "RepositoryName", max: 256, lower: true },
    ),
    recorded("AWS::CDK::Metadata", &[]),
    recorded("AWS::KMS::Key", &["Arn", "KeyId"]),
    recorded("AWS::KMS::Alias", &[]),
    recorded("AWS::CloudFormation::WaitConditionHandle", &[]),
];

/// The type named, if Lamina serves it.
pub fn find(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Whether a name has the shape of a resource type (`AWS::X::Y`, `Custom::X`,
/// `Alexa::ASK::Skill`…): one Lamina does not serve fails the resource, not the template.
pub fn plausible(name: &str) -> bool {
    let parts: Vec<&str> = name.split("::").collect();
    (parts.len() == 3 && parts.iter().all(|p| !p.is_empty()))
        || (parts.len() == 2 && parts[0] == "Custom" && !parts[1].is_empty())
}

/// What one provider call is working on.
pub struct Ctx<'a> {
    /// The services.
    pub ops: &'a dyn Operations,
    /// Who the stack acts as.
    pub acting: &'a Acting,
    /// The stack's name.
    pub stack_name: &'a str,
    /// The resource's logical id.
    pub logical: &'a str,
}

impl Ctx<'_> {
    /// Runs an operation.
    pub async fn call(&self, service: &str, operation: &str, input: Value) -> Result<Value, Failed> {
        self.ops.call(self.acting, service, operation, input).await.map_err(Failed::from)
    }

    /// Runs an operation whose "does not exist" answer is fine (a delete of what is gone).
    pub async fn call_gone_ok(&self, service: &str, operation: &str, input: Value) -> Result<(), Failed> {
        match self.ops.call(self.acting, service, operation, input).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// An ARN in the stack's account and region.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{resource}", self.acting.region, self.acting.account)
    }
}

/// A provider's failure: the handler's error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// CloudFormation's handler error code (`InvalidRequest`, `NotFound`, `AlreadyExists`, …).
    pub code: &'static str,
    /// The service's message.
    pub message: String,
}

impl Failed {
    /// A property that cannot be used.
    pub fn invalid(message: impl Into<String>) -> Failed {
        Failed { code: "InvalidRequest", message: message.into() }
    }

    /// The status reason CloudFormation shows.
    pub fn reason(&self) -> String {
        format!(
            "Resource handler returned message: \"{}\" (RequestToken: {}, HandlerErrorCode: {})",
            self.message,
            uuid::Uuid::new_v4(),
            self.code
        )
    }
}

impl From<OperationError> for Failed {
    fn from(e: OperationError) -> Failed {
        let code = if e.is_not_found() {
            "NotFound"
        } else if e.code.contains("AlreadyExists")
            || e.code.contains("Conflict")
            || e.code.contains("EntityAlreadyExists")
        {
            "AlreadyExists"
        } else if e.status >= 500 {
            "GeneralServiceException"
        } else if e.code.contains("Throttl") || e.code.contains("TooMany") {
            "Throttling"
        } else if e.code.contains("AccessDenied") {
            "AccessDenied"
        } else {
            "InvalidRequest"
        };
        Failed { code, message: e.message }
    }
}

/// What a create or update made: the physical id and the attributes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Made {
    /// The physical id (`Ref`'s answer for most types).
    pub physical: String,
    /// `Fn::GetAtt`'s answers.
    pub attributes: Map<String, Value>,
}

impl Made {
    /// A resource whose `Ref` is `physical`, with attributes.
    pub fn new(physical: impl Into<String>, attributes: Value) -> Made {
        Made { physical: physical.into(), attributes: attributes.as_object().cloned().unwrap_or_default() }
    }
}

/// Twelve random capitals and digits, as CloudFormation's names end.
pub fn suffix() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uuid::Uuid::new_v4().as_bytes().iter().take(12).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// A name CloudFormation makes up: `{stack}-{logical}-{random}`, cut to `max`.
pub fn generated_name(stack: &str, logical: &str, max: usize, lower: bool) -> String {
    let suffix = suffix();
    // Room for two dashes and the suffix; the rest shared, the stack's part first.
    let room = max.saturating_sub(suffix.len() + 2);
    let logical_room = logical.len().min(room / 2).max(room.saturating_sub(stack.len()));
    let logical_part: String = logical.chars().take(logical_room.min(logical.len())).collect();
    let stack_part: String = stack.chars().take(room.saturating_sub(logical_part.len())).collect();
    let name = format!("{stack_part}-{logical_part}-{suffix}");
    if lower {
        name.to_ascii_lowercase()
    } else {
        name
    }
}

/// The properties a create is made with: a generated name added where the type takes one
/// and the template gave none. Returns the physical id the resource will have, when it is
/// known before it is made (so it is recorded first).
pub fn prepare(kind: &Kind, ctx: &Ctx<'_>, props: &mut Value) -> Option<String> {
    if let Naming::Generated { property, max, lower } = kind.naming {
        if props.get(property).is_none() {
            let fifo = kind.name == "AWS::SQS::Queue" && truthy(props.get("FifoQueue"));
            let fifo_topic = kind.name == "AWS::SNS::Topic" && truthy(props.get("FifoTopic"));
            let max = if fifo || fifo_topic { max - 5 } else { max };
            let mut name = generated_name(ctx.stack_name, ctx.logical, max, lower);
            if fifo || fifo_topic {
                name.push_str(".fifo");
            }
            if let Value::Object(o) = props {
                o.insert(property.to_owned(), Value::String(name));
            }
        }
    }
    match kind.name {
        "AWS::SQS::Queue" => sqs::planned(ctx, props),
        "AWS::SNS::Topic" => sns::planned(ctx, props),
        "AWS::IAM::Role"
        | "AWS::Logs::LogGroup"
        | "AWS::Lambda::Function"
        | "AWS::S3::Bucket"
        | "AWS::ECR::Repository"
        | "AWS::ApiGateway::Stage"
        | "AWS::Logs::SubscriptionFilter"
        | "AWS::Scheduler::Schedule"
        | "AWS::Scheduler::ScheduleGroup"
        | "AWS::DynamoDB::Table"
        | "AWS::Kinesis::Stream" => props.get(naming_property(kind)?).and_then(Value::as_str).map(str::to_owned),
        "AWS::IAM::ManagedPolicy" => {
            let name = props.get("ManagedPolicyName")?.as_str()?;
            let path = props.get("Path").and_then(Value::as_str).unwrap_or("/");
            Some(format!("arn:aws:iam::{}:policy{path}{name}", ctx.acting.account))
        }
        _ => None,
    }
}

fn naming_property(kind: &Kind) -> Option<&'static str> {
    match kind.naming {
        Naming::Generated { property, .. } => Some(property),
        Naming::Service => None,
    }
}

/// The types CloudFormation tags with the stack's tags and its own
/// `aws:cloudformation:stack-name`, `stack-id` and `logical-id` tags, as AWS's handlers do
/// (its queues carry neither: AWS's recorded answers show a queue's own tags alone).
const STACK_TAGGED: &[&str] = &[
    "AWS::SNS::Topic",
    "AWS::Lambda::Function",
    "AWS::Lambda::EventSourceMapping",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::UsagePlan",
];

/// Adds the stack's tags and CloudFormation's own to `props`' `Tags` where the type takes
/// them; a tag the resource declares itself keeps its value.
pub fn add_stack_tags(kind: &Kind, props: &mut Value, stack: &crate::stack::Stack, logical: &str) {
    if !STACK_TAGGED.contains(&kind.name) {
        return;
    }
    let Value::Object(o) = props else { return };
    let mut tags = tag_map(o.get("Tags"));
    let system = [
        ("aws:cloudformation:stack-name", stack.name.as_str()),
        ("aws:cloudformation:stack-id", stack.id.as_str()),
        ("aws:cloudformation:logical-id", logical),
    ];
    let inherited = stack.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(system);
    for (k, v) in inherited {
        tags.entry(k.to_owned()).or_insert_with(|| Value::String(v.to_owned()));
    }
    o.insert("Tags".into(), tags.into_iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect());
}

/// Makes a resource.
pub async fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    if kind.recorded_only {
        return Ok(plumbing::create(kind, ctx, props));
    }
    match kind.name.split("::").nth(1).unwrap_or_default() {
        "SQS" => sqs::create(kind, ctx, props).await,
        "SNS" => sns::create(kind, ctx, props).await,
        "IAM" => iam::create(kind, ctx, props).await,
        "Logs" => logs::create(kind, ctx, props).await,
        "Events" | "Scheduler" => events::create(kind, ctx, props).await,
        "SSM" => ssm::create(kind, ctx, props).await,
        "DynamoDB" | "Kinesis" => dynamodb::create(kind, ctx, props).await,
        "ECR" => ecr::create(kind, ctx, props).await,
        "S3" => s3::create(kind, ctx, props).await,
        "Lambda" => lambda::create(kind, ctx, props).await,
        "ApiGateway" | "ApiGatewayV2" => apigateway::create(kind, ctx, props).await,
        _ => Err(Failed::invalid(format!("Lamina does not serve resources of type {}", kind.name))),
    }
}

/// Updates a resource in place to `props` (no property of `replace_on` changed).
pub async fn update(kind: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    if kind.recorded_only {
        return Ok(Made { physical: old.physical.clone().unwrap_or_default(), attributes: old.attributes.clone() });
    }
    match kind.name.split("::").nth(1).unwrap_or_default() {
        "SQS" => sqs::update(kind, ctx, old, props).await,
        "SNS" => sns::update(kind, ctx, old, props).await,
        "IAM" => iam::update(kind, ctx, old, props).await,
        "Logs" => logs::update(kind, ctx, old, props).await,
        "Events" | "Scheduler" => events::update(kind, ctx, old, props).await,
        "SSM" => ssm::update(kind, ctx, old, props).await,
        "DynamoDB" | "Kinesis" => dynamodb::update(kind, ctx, old, props).await,
        "ECR" => ecr::update(kind, ctx, old, props).await,
        "S3" => s3::update(kind, ctx, old, props).await,
        "Lambda" => lambda::update(kind, ctx, old, props).await,
        "ApiGateway" | "ApiGatewayV2" => apigateway::update(kind, ctx, old, props).await,
        _ => Err(Failed::invalid(format!("Lamina does not serve resources of type {}", kind.name))),
    }
}

/// Deletes a resource; one already gone is deleted.
pub async fn delete(kind: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    if kind.recorded_only || old.physical.is_none() {
        return Ok(());
    }
    match kind.name.split("::").nth(1).unwrap_or_default() {
        "SQS" => sqs::delete(kind, ctx, old).await,
        "SNS" => sns::delete(kind, ctx, old).await,
        "IAM" => iam::delete(kind, ctx, old).await,
        "Logs" => logs::delete(kind, ctx, old).await,
        "Events" | "Scheduler" => events::delete(kind, ctx, old).await,
        "SSM" => ssm::delete(kind, ctx, old).await,
        "DynamoDB" | "Kinesis" => dynamodb::delete(kind, ctx, old).await,
        "ECR" => ecr::delete(kind, ctx, old).await,
        "S3" => s3::delete(kind, ctx, old).await,
        "Lambda" => lambda::delete(kind, ctx, old).await,
        "ApiGateway" | "ApiGatewayV2" => apigateway::delete(kind, ctx, old).await,
        _ => Ok(()),
    }
}

/// Whether changing `old` to `new` replaces the resource.
pub fn replaces(kind: &Kind, old: &Value, new: &Value) -> bool {
    (!kind.in_place && old != new) || kind.replace_on.iter().any(|p| old.get(*p) != new.get(*p))
}

// Helpers the providers share.

/// A property read as CloudFormation reads booleans: `true` or `"true"`.
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A property as a string (numbers and booleans written out; objects as JSON).
pub fn string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(_) | Value::Bool(_) => v.to_string(),
        other => other.to_string(),
    }
}

/// A property as an integer (`"128"` or `128`).
pub fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A property as a boolean.
pub fn boolean(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A policy document as the services take it: JSON text.
pub fn document(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `Tags: [{Key, Value}]` as a map.
pub fn tag_map(v: Option<&Value>) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(Value::Array(tags)) = v {
        for t in tags {
            if let (Some(k), Some(v)) = (t.get("Key"), t.get("Value")) {
                out.insert(string(k), Value::String(string(v)));
            }
        }
    }
    out
}

/// `Tags: [{Key, Value}]` as the list the query services take.
pub fn tag_list(v: Option<&Value>) -> Value {
    Value::Array(tag_map(v).into_iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
}

/// The last `:`-separated part of an ARN (a function's name in its ARN…).
pub fn last_part(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_fit_their_type() {
        let n = generated_name("my-stack", "MyQueue", 80, false);
        assert!(n.starts_with("my-stack-MyQueue-") && n.len() == "my-stack-MyQueue-".len() + 12, "{n}");
        let long = "s".repeat(100);
        let n = generated_name(&long, "FunctionWithAVeryLongLogicalName", 64, false);
        assert_eq!(n.len(), 64, "{n}");
        assert!(n.contains("-FunctionWith"), "{n}");
        let b = generated_name("Stack", "Bucket", 63, true);
        assert_eq!(b, b.to_ascii_lowercase());
    }

    #[test]
    fn types_are_told_apart() {
        assert!(find("AWS::SQS::Queue").is_some());
        assert!(find("AWS::EC2::VPC").is_none() && plausible("AWS::EC2::VPC"));
        assert!(plausible("Custom::Thing") && !plausible("Nonsense") && !plausible("AWS::X"));
    }
}
