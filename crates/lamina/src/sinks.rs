//! Adapters that only forward: functions' output, SNS's delivery logs and stages' access
//! logs into CloudWatch Logs, functions' credentials to the authenticator, packages
//! named by S3 location from S3, S3's event notifications to SQS, SNS, Lambda and
//! EventBridge, EventBridge's and Scheduler's deliveries to their targets, CloudWatch
//! Logs' subscriptions to Lambda, and DynamoDB's and Kinesis's streams to Lambda's pollers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Functions' output and stages' access logs, into CloudWatch Logs.
pub(crate) struct Logs(pub(crate) logs::LogsService);

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Logs")
    }
}

impl invoker::LogSink for Logs {
    fn write(&self, s: &invoker::LogStreamId, lines: Vec<(i64, String)>) {
        self.0.ingest(&s.account, &s.region, &s.group, &s.stream, lines);
    }

    fn has_room(&self) -> bool {
        self.0.has_room()
    }

    fn until_room(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(self.0.until_room())
    }
}

impl sns::DeliveryLog for Logs {
    fn write(&self, account: &str, region: &str, group: &str, stream: &str, line: String) {
        self.0.ingest(account, region, group, stream, vec![(model::clock::now_ms(), line)]);
    }
}

impl gateway::AccessLogSink for Logs {
    fn write(&self, destination_arn: &str, stream: &str, line: String) {
        self.0.ingest_to_arn(destination_arn, stream, line);
    }
}

/// Functions' credentials: temporary keys of their execution role's session, known to
/// the server (verified in authenticated mode, read as who they are in open mode).
#[derive(Debug)]
pub(crate) struct FunctionKeys(pub(crate) Arc<aws_api::Authenticator>);

impl invoker::CredentialIssuer for FunctionKeys {
    fn issue(&self, f: &model::Function) -> (String, String, String) {
        let (account, principal) = f.execution_session();
        self.0.session_for(&account, &principal)
    }

    fn revoke(&self, access_key: &str) {
        self.0.revoke(access_key);
    }
}

/// Functions' packages named by S3 location, read from S3 as the function's caller.
pub(crate) struct S3Code(pub(crate) s3::S3Service);

impl lambda::CodeObjects for S3Code {
    fn fetch(
        &self,
        caller: &lambda::Caller,
        at: &lambda::S3Location,
        max: u64,
    ) -> Result<Vec<u8>, Option<(String, String)>> {
        let caller = s3::Caller::from(caller.clone());
        match self.0.read_whole(&caller, &at.bucket, &at.key, at.version.as_deref(), max) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(None),
            Err(e) => Err(Some((e.code.to_owned(), e.message))),
        }
    }

    fn write<'a>(
        &'a self,
        caller: &'a lambda::Caller,
        bucket: &'a str,
        key: &'a str,
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let caller = s3::Caller::from(caller.clone());
            let input = s3::PutInput {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                length: Some(body.len() as u64),
                meta: s3::ObjectMeta { content_type: Some("application/json".into()), ..Default::default() },
                ..Default::default()
            };
            let chunk = futures_util::stream::once(async move { Ok(bytes::Bytes::from(body)) });
            self.0.put_object(&caller, input, chunk).await.map(|_| ()).map_err(|e| e.message)
        })
    }
}

/// S3's event notifications, to the services that take them: each decides, by its own
/// policy, whether S3 may deliver for the bucket.
pub(crate) struct S3Events {
    pub(crate) sqs: sqs::SqsService,
    pub(crate) sns: sns::SnsService,
    pub(crate) lambda: lambda::LambdaService,
    pub(crate) events: events::EventsService,
}

impl S3Events {
    fn who<'a>(bucket_arn: &'a str, account: &'a str) -> sqs::Requester<'a> {
        sqs::Requester::Service { service: "s3.amazonaws.com", source_arn: bucket_arn, source_account: account }
    }
}

impl s3::EventTargets for S3Events {
    fn reach(&self, kind: s3::TargetKind, arn: &str, bucket_arn: &str, account: &str) -> s3::Reach {
        let who = Self::who(bucket_arn, account);
        let allowed = match kind {
            s3::TargetKind::Queue => self.sqs.allows(arn, &who, "sqs:SendMessage"),
            s3::TargetKind::Topic => self.sns.permits(arn, &who),
            s3::TargetKind::Function => self.lambda.admits(lambda::ServicePrincipal::S3, bucket_arn, arn),
            // The owner's own default bus takes its buckets' events.
            s3::TargetKind::EventBridge => Some(true),
        };
        match allowed {
            None => s3::Reach::Missing,
            Some(false) => s3::Reach::Denied,
            Some(true) => s3::Reach::Allowed,
        }
    }

    fn send<'a>(
        &'a self,
        n: &'a s3::Outgoing,
    ) -> Pin<Box<dyn Future<Output = Result<(), s3::Undelivered>> + Send + 'a>> {
        use s3::Undelivered::{Later, Refused};
        // A service's own failure (its store's) is worth another try; the rest is a refusal.
        let by_status = |status: u16, e: String| if status >= 500 { Later(e) } else { Refused(e) };
        Box::pin(async move {
            let who = Self::who(&n.bucket_arn, &n.account);
            let found = match n.kind {
                s3::TargetKind::Queue => {
                    let trace = n.trace_header.iter().map(|t| {
                        let value =
                            sqs::AttributeValue { data_type: "String".into(), string: Some(t.clone()), binary: None };
                        ("AWSTraceHeader".to_owned(), value)
                    });
                    let input = sqs::SendInput { body: n.body.clone(), system: trace.collect(), ..Default::default() };
                    self.sqs.send_to_arn(&n.arn, &who, input).map_err(|e| by_status(e.status, e.to_string()))?
                }
                s3::TargetKind::Topic => {
                    let input = sns::PublishInput {
                        message: n.body.clone(),
                        subject: Some(s3::TOPIC_SUBJECT.to_owned()),
                        trace_header: n.trace_header.clone(),
                        ..Default::default()
                    };
                    let published = self.sns.publish_to_arn(&n.arn, &who, input).await;
                    published.map_err(|e| by_status(e.status, e.to_string()))?
                }
                s3::TargetKind::Function => {
                    let principal = lambda::ServicePrincipal::S3;
                    let invoked = self.lambda.invoke_event_for(principal, &n.bucket_arn, &n.arn, n.body.clone()).await;
                    invoked.map_err(|e| match e {
                        lambda::LambdaError::Service(_) | lambda::LambdaError::TooManyRequests { .. } => {
                            Later(e.to_string())
                        }
                        e => Refused(e.to_string()),
                    })?;
                    true
                }
                s3::TargetKind::EventBridge => {
                    let message: serde_json::Value =
                        serde_json::from_str(&n.body).map_err(|e| Refused(format!("an unreadable event: {e}")))?;
                    let region = n.arn.split(':').nth(3).unwrap_or_default();
                    let caller = events::Caller::new(n.account.clone(), region.to_owned());
                    let entry = events::Entry {
                        source: Some("aws.s3".into()),
                        detail_type: message["detail-type"].as_str().map(str::to_owned),
                        detail: Some(message["detail"].to_string()),
                        resources: vec![n.bucket_arn.clone()],
                        trace_header: n.trace_header.clone(),
                        ..Default::default()
                    };
                    let put = self.events.put_events(&caller, vec![entry], true).await;
                    put.map_err(|e| Later(e.to_string()))?;
                    true
                }
            };
            found.then_some(()).ok_or_else(|| Refused("the destination does not exist".to_owned()))
        })
    }
}

/// EventBridge's and Scheduler's targets: each service decides, by its own policy, whether
/// the rule (or schedule) may deliver to it.
pub(crate) struct EventTargets {
    pub(crate) sqs: sqs::SqsService,
    pub(crate) sns: sns::SnsService,
    pub(crate) lambda: lambda::LambdaService,
    pub(crate) plane: gateway::DataPlane,
    pub(crate) logs: logs::LogsService,
    /// Scheduler's universal targets: the services' own operations.
    pub(crate) operations: Arc<dyn cloudformation::Operations>,
    /// The server's `host:port`, where queue URLs point.
    pub(crate) host: String,
}

/// A service's refusal as EventBridge classes it: its own failure (its store's, its
/// throttle) is worth another try; the rest is not.
fn failure_of(status: u16, code: &str, e: String) -> events::Failure {
    use events::Failure;
    match (status, code) {
        (403, _) | (_, "AccessDenied" | "AuthorizationError") => Failure::Denied(e),
        (429, _) | (_, "Throttling" | "ThrottlingException") => Failure::Throttled(e),
        (s, _) if s >= 500 => Failure::Failed(e),
        _ => Failure::Invalid(e),
    }
}

/// The SQS message an EventBridge delivery (or dead letter) is.
fn sqs_message(o: &events::Outgoing<'_>) -> sqs::SendInput {
    let string = |v: &str| sqs::AttributeValue { data_type: "String".into(), string: Some(v.into()), binary: None };
    sqs::SendInput {
        body: o.payload.to_owned(),
        attributes: o.attributes.iter().map(|(k, v)| ((*k).to_owned(), string(v))).collect(),
        system: o.trace_header.iter().map(|t| ("AWSTraceHeader".to_owned(), string(t))).collect(),
        group_id: o.message_group_id.map(str::to_owned),
        dedup_id: o.message_group_id.and(o.dedup_id).map(str::to_owned),
        ..Default::default()
    }
}

impl EventTargets {
    async fn send_one(&self, o: &events::Outgoing<'_>) -> Result<(), events::Failure> {
        use events::Failure;
        let who = sqs::Requester::Service { service: o.service, source_arn: o.source_arn, source_account: o.account };
        let by_status = failure_of;
        let missing = || Failure::Missing(format!("The target {} does not exist.", o.arn));
        match o.kind {
            events::TargetKind::Sqs => {
                let sent = self
                    .sqs
                    .send_to_arn(o.arn, &who, sqs_message(o))
                    .map_err(|e| by_status(e.status, e.code, e.to_string()))?;
                sent.then_some(()).ok_or_else(missing)
            }
            events::TargetKind::Sns => {
                let input = sns::PublishInput {
                    message: o.payload.to_owned(),
                    group_id: o.message_group_id.map(str::to_owned),
                    trace_header: o.trace_header.map(str::to_owned),
                    ..Default::default()
                };
                let published = self.sns.publish_to_arn(o.arn, &who, input).await;
                published.map_err(|e| by_status(e.status, e.code, e.to_string()))?.then_some(()).ok_or_else(missing)
            }
            events::TargetKind::Lambda => {
                let principal = if o.service.starts_with("scheduler.") {
                    lambda::ServicePrincipal::Scheduler
                } else {
                    lambda::ServicePrincipal::Events
                };
                let invoked = self.lambda.invoke_event_for(principal, o.source_arn, o.arn, o.payload.to_owned()).await;
                invoked.map(drop).map_err(|e| match e {
                    lambda::LambdaError::Service(_) => Failure::Failed(e.to_string()),
                    lambda::LambdaError::TooManyRequests { .. } => Failure::Throttled(e.to_string()),
                    lambda::LambdaError::NotFound(_) => missing(),
                    lambda::LambdaError::AccessDenied(_) => Failure::Denied(e.to_string()),
                    e => Failure::Invalid(e.to_string()),
                })
            }
            events::TargetKind::ApiGateway => self.to_api(o).await,
            events::TargetKind::Logs => {
                let stream = o.dedup_id.unwrap_or("events");
                self.logs.ingest_to_arn(o.arn.trim_end_matches(":*"), stream, o.payload.to_owned());
                Ok(())
            }
            events::TargetKind::Universal => self.call_operation(o).await,
            events::TargetKind::Bus | events::TargetKind::Other => {
                Err(Failure::Unsupported(format!("Lamina does not deliver to {}.", o.arn)))
            }
        }
    }

    /// `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`: a request to
    /// the stage, the path's `*`s filled in order.
    async fn to_api(&self, o: &events::Outgoing<'_>) -> Result<(), events::Failure> {
        use events::Failure;
        let resource = o.arn.splitn(6, ':').nth(5).unwrap_or_default();
        let mut parts = resource.splitn(4, '/');
        let (Some(api), Some(stage), method, path) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(Failure::Invalid(format!("{} names no API stage.", o.arn)));
        };
        let method = match method {
            None | Some("*") | Some("") => "POST",
            Some(m) => m,
        };
        let http = o.http.cloned().unwrap_or_default();
        let mut values = http.path_values.iter();
        let path: Vec<String> = path
            .unwrap_or_default()
            .split('/')
            .filter(|p| !p.is_empty())
            .map(|p| if p == "*" { values.next().cloned().unwrap_or_default() } else { p.to_owned() })
            .collect();
        let query: Vec<String> = http
            .query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    form_urlencoded::byte_serialize(k.as_bytes()).collect::<String>(),
                    form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                )
            })
            .collect();
        // As EventBridge's client sends it: its own agent, JSON, the path with its slash.
        let host = format!("{api}.execute-api.{}", self.host);
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host.clone()),
            ("user-agent".into(), "Amazon/EventBridge/ApiGatewayTarget".into()),
            ("content-type".into(), "application/json".into()),
        ];
        headers.extend(http.headers.iter().map(|(k, v)| (k.to_lowercase(), v.clone())));
        let path = format!("/{stage}/{}/", path.join("/")).replace("//", "/");
        let req = gateway::GatewayRequest {
            method: method.to_owned(),
            host,
            path: path.clone(),
            query: (!query.is_empty()).then(|| query.join("&")),
            headers,
            body: bytes::Bytes::from(o.payload.to_owned()),
            source_ip: "127.0.0.1".into(),
            request_id: uuid::Uuid::new_v4().to_string(),
            signature: gateway::Signed::Unchecked,
        };
        let address = apigateway::routing::Address { api_id: api.to_owned(), path, by_host: true };
        let resp = self.plane.execute(address, req).await;
        match resp.status {
            s if s < 400 => Ok(()),
            429 => Err(Failure::Throttled(format!("The API answered {s}.", s = resp.status))),
            404 => Err(Failure::Missing(format!("The API answered {}.", resp.status))),
            s if s >= 500 => Err(Failure::Failed(format!("The API answered {s}."))),
            s => Err(Failure::Invalid(format!("The API answered {s}."))),
        }
    }

    /// `arn:aws:scheduler:::aws-sdk:<service>:<action>`: the operation, with the input as
    /// its parameters, as the schedule's account.
    async fn call_operation(&self, o: &events::Outgoing<'_>) -> Result<(), events::Failure> {
        use events::Failure;
        let rest = o.arn.split(":aws-sdk:").nth(1).unwrap_or_default();
        let Some((service, action)) = rest.split_once(':') else {
            return Err(Failure::Invalid(format!("{} names no operation.", o.arn)));
        };
        let mut chars = action.chars();
        let operation: String = chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect();
        let input: serde_json::Value =
            serde_json::from_str(o.payload).map_err(|e| Failure::Invalid(format!("The input is not JSON: {e}")))?;
        let region = o.source_arn.split(':').nth(3).unwrap_or_default();
        let acting = cloudformation::Acting {
            account: o.account.to_owned(),
            region: region.to_owned(),
            principal: format!(
                "arn:aws:sts::{}:assumed-role/scheduler/{}",
                o.account,
                o.source_arn.rsplit('/').next().unwrap_or_default()
            ),
            host: self.host.clone(),
        };
        match self.operations.call(&acting, service, &operation, input).await {
            Ok(_) => Ok(()),
            Err(e) if e.status >= 500 || e.code.contains("Throttl") => {
                Err(Failure::Failed(format!("{}: {}", e.code, e.message)))
            }
            Err(e) if e.code.contains("NotFound") || e.code.contains("NonExistent") => {
                Err(Failure::Missing(format!("{}: {}", e.code, e.message)))
            }
            Err(e) => Err(Failure::Invalid(format!("{}: {}", e.code, e.message))),
        }
    }
}

impl events::Targets for EventTargets {
    fn send<'a>(
        &'a self,
        o: &'a events::Outgoing<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<(), events::Failure>> + Send + 'a>> {
        Box::pin(self.send_one(o))
    }

    fn send_to_queue<'a>(&'a self, batch: &'a [events::Outgoing<'a>]) -> events::Sent<'a> {
        Box::pin(async move {
            let Some(first) = batch.first() else { return Vec::new() };
            let who = sqs::Requester::Service {
                service: first.service,
                source_arn: first.source_arn,
                source_account: first.account,
            };
            let inputs = batch.iter().map(sqs_message).collect();
            let missing = || events::Failure::Missing(format!("The target {} does not exist.", first.arn));
            match self.sqs.send_many_to_arn(first.arn, &who, inputs) {
                Ok(Some(results)) => results
                    .into_iter()
                    .map(|r| r.map(drop).map_err(|e| failure_of(e.status, e.code, e.to_string())))
                    .collect(),
                Ok(None) => batch.iter().map(|_| Err(missing())).collect(),
                Err(e) => batch.iter().map(|_| Err(failure_of(e.status, e.code, e.to_string()))).collect(),
            }
        })
    }
}

/// CloudWatch Logs' subscriptions, to Lambda: asynchronous invocations by
/// `logs.amazonaws.com` for the log group, which the function's policy decides.
pub(crate) struct LogSubscriptions(pub(crate) lambda::LambdaService);

impl logs::SubscriptionTarget for LogSubscriptions {
    fn admits(&self, function_arn: &str, group_arn: &str) -> Option<bool> {
        self.0.admits(lambda::ServicePrincipal::Logs, group_arn, function_arn)
    }

    fn own_group(&self, function_arn: &str) -> Option<String> {
        self.0.log_group_of(function_arn)
    }

    fn invoke<'a>(
        &'a self,
        function_arn: &'a str,
        group_arn: &'a str,
        payload: String,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let principal = lambda::ServicePrincipal::Logs;
            self.0
                .invoke_event_for(principal, group_arn, function_arn, payload)
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        })
    }
}

/// DynamoDB's streams, read by Lambda's event source mappings.
pub(crate) struct DynamoStreams {
    pub(crate) dynamodb: Arc<dynamodb::DynamoService>,
    pub(crate) woken: Arc<tokio::sync::Notify>,
}

impl DynamoStreams {
    /// The source, its wake-ups connected to the service's writes.
    pub(crate) fn connect(dynamodb: Arc<dynamodb::DynamoService>) -> Arc<DynamoStreams> {
        let woken = Arc::new(tokio::sync::Notify::new());
        let w = woken.clone();
        dynamodb.on_stream_write(Box::new(move || w.notify_waiters()));
        Arc::new(DynamoStreams { dynamodb, woken })
    }
}

impl lambda::StreamSource for DynamoStreams {
    fn shards(&self, arn: &str) -> Option<Vec<lambda::ShardInfo>> {
        let (id, closed) = self.dynamodb.stream_shard(arn)?;
        Some(vec![lambda::ShardInfo { id, parent: None, adjacent_parent: None, closed }])
    }

    fn read(
        &self,
        arn: &str,
        _shard: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<lambda::StreamRecord>, String> {
        let rows = self.dynamodb.stream_read(arn, after, limit).map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .map(|r| lambda::StreamRecord {
                sequence: r.sequence,
                at_ms: r.at_ms,
                partition_key: r.key,
                event: r.event,
            })
            .collect())
    }

    fn latest(&self, arn: &str, _shard: &str) -> Option<String> {
        self.dynamodb.stream_latest(arn).ok()
    }

    fn at_time(&self, arn: &str, _shard: &str, ms: i64) -> Option<String> {
        self.dynamodb.stream_before(arn, ms).ok()
    }

    fn woken(&self) -> Arc<tokio::sync::Notify> {
        self.woken.clone()
    }
}

/// Kinesis's streams, read by Lambda's event source mappings.
pub(crate) struct KinesisStreams {
    pub(crate) kinesis: Arc<kinesis::KinesisService>,
    pub(crate) woken: Arc<tokio::sync::Notify>,
}

impl KinesisStreams {
    /// The source, its wake-ups connected to the service's puts.
    pub(crate) fn connect(kinesis: Arc<kinesis::KinesisService>) -> Arc<KinesisStreams> {
        let woken = Arc::new(tokio::sync::Notify::new());
        let w = woken.clone();
        kinesis.on_put(Box::new(move || w.notify_waiters()));
        Arc::new(KinesisStreams { kinesis, woken })
    }
}

impl lambda::StreamSource for KinesisStreams {
    fn shards(&self, arn: &str) -> Option<Vec<lambda::ShardInfo>> {
        let s = self.kinesis.stream_by_arn(arn)?;
        Some(
            s.shards
                .iter()
                .map(|sh| lambda::ShardInfo {
                    id: sh.id(),
                    parent: sh.parent.map(kinesis::shards::shard_id),
                    adjacent_parent: sh.adjacent_parent.map(kinesis::shards::shard_id),
                    closed: !sh.is_open(),
                })
                .collect(),
        )
    }

    fn read(
        &self,
        arn: &str,
        shard: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<lambda::StreamRecord>, String> {
        let rows = self.kinesis.poll(arn, shard, after, limit).map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .map(|(r, event)| lambda::StreamRecord {
                sequence: r.sequence,
                at_ms: r.at_ms,
                partition_key: r.partition_key,
                event,
            })
            .collect())
    }

    fn latest(&self, arn: &str, shard: &str) -> Option<String> {
        self.kinesis.poll_latest(arn, shard)
    }

    fn at_time(&self, arn: &str, shard: &str, ms: i64) -> Option<String> {
        self.kinesis.poll_at(arn, shard, ms)
    }

    fn woken(&self) -> Arc<tokio::sync::Notify> {
        self.woken.clone()
    }
}
