//! `TestEnv`: a whole Lamina server started in-process on port 0, with its own data
//! directory, the process sandbox (no root needed) and an adjustable clock, and a plain
//! HTTP client speaking AWS's wire protocols to it. Functions are `provided` ones whose
//! bootstrap is `fixtures/echo-bootstrap.sh` (bash alone: no Python, no compiler).
#![allow(dead_code)] // each test file uses its own part of the harness

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

/// The account requests act in (open mode reads it from the access key).
pub const ACCOUNT: &str = "000000000000";
/// The region requests are sent to.
pub const REGION: &str = "us-east-1";

/// Builds a [`TestEnv`].
pub struct Builder {
    config: lamina::Config,
}

impl Builder {
    /// Seconds before each retry of a failed async event (AWS waits a minute, then two).
    pub fn retry_delays(mut self, secs: &[f64]) -> Builder {
        self.config.async_.retry_delays_secs = secs.to_vec();
        self
    }

    /// Starts the server and waits until it listens.
    pub async fn start(mut self) -> TestEnv {
        let data = std::env::temp_dir().join(format!("lamina-test-{}", uuid::Uuid::new_v4().simple()));
        self.config.data_dir = data.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binding a free port");
        let server = lamina::start(listener, self.config).await.expect("starting the server");
        let addr = server.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.serve(async move {
            let _ = stopped.await;
        }));
        TestEnv {
            addr,
            data,
            stop: Some(stop),
            task: Some(task),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }
}

/// A running server and a client for it. Dropping it stops the server and removes its data.
pub struct TestEnv {
    addr: SocketAddr,
    data: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

/// An HTTP answer: status, headers and the body as JSON (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestEnv {
    /// A server on the process sandbox, with an adjustable clock and AWS's retry delays.
    pub fn builder() -> Builder {
        let mut config = lamina::Config { port: 0, ..Default::default() };
        config.sandbox.mode = lamina::config::SandboxMode::Process;
        config.async_.adjustable_clock = true;
        Builder { config }
    }

    /// Sends a request signed (as open mode reads it) for `service`.
    pub async fn request(
        &self,
        service: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Answer {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={ACCOUNT}/20260101/{REGION}/{service}/aws4_request, \
             SignedHeaders=host, Signature=00"
        );
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header("authorization", authorization);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::from(body))).expect("a valid request");
        let response = self.client.request(request).await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("the whole answer").to_bytes();
        Answer { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }

    /// A Lambda REST call with a JSON body.
    pub async fn lambda(&self, method: &str, path: &str, body: Value) -> Answer {
        let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
        self.request("lambda", method, path, &[("content-type", "application/json")], body).await
    }

    /// An SQS call in its JSON protocol; panics on an error answer.
    pub async fn sqs(&self, operation: &str, input: Value) -> Value {
        let answer = self.sqs_answer(operation, input).await;
        assert_eq!(answer.status, 200, "{operation}: {}", answer.body);
        answer.body
    }

    /// An SQS call in its JSON protocol, whatever it answers.
    pub async fn sqs_answer(&self, operation: &str, input: Value) -> Answer {
        let target = format!("AmazonSQS.{operation}");
        let headers = [("x-amz-target", target.as_str()), ("content-type", "application/x-amz-json-1.0")];
        self.request("sqs", "POST", "/", &headers, input.to_string().into_bytes()).await
    }

    /// Creates a queue with `attributes` and answers its URL.
    pub async fn queue(&self, name: &str, attributes: Value) -> String {
        let created = self.sqs("CreateQueue", json!({ "QueueName": name, "Attributes": attributes })).await;
        created["QueueUrl"].as_str().expect("QueueUrl").to_owned()
    }

    /// A queue's ARN.
    pub async fn queue_arn(&self, url: &str) -> String {
        let got = self.sqs("GetQueueAttributes", json!({ "QueueUrl": url, "AttributeNames": ["QueueArn"] })).await;
        got["Attributes"]["QueueArn"].as_str().expect("QueueArn").to_owned()
    }

    /// Receives up to `max` messages, long polling for at most `wait_s` seconds.
    pub async fn receive(&self, url: &str, max: u32, wait_s: u32) -> Vec<Value> {
        let input = json!({
            "QueueUrl": url, "MaxNumberOfMessages": max, "WaitTimeSeconds": wait_s,
            "MessageSystemAttributeNames": ["All"],
        });
        let got = self.sqs("ReceiveMessage", input).await;
        got["Messages"].as_array().cloned().unwrap_or_default()
    }

    /// Creates the echo function `name` (see the module's doc) and answers its description.
    pub async fn echo_function(&self, name: &str) -> Value {
        use base64::Engine;
        let zip = base64::engine::general_purpose::STANDARD.encode(echo_package());
        let created = self
            .lambda(
                "POST",
                "/2015-03-31/functions",
                json!({
                    "FunctionName": name, "Runtime": "provided.al2023", "Handler": "echo",
                    "Role": format!("arn:aws:iam::{ACCOUNT}:role/test"), "Code": { "ZipFile": zip },
                }),
            )
            .await;
        assert_eq!(created.status, 201, "CreateFunction: {}", created.body);
        created.body
    }

    /// Invokes `name` (optionally qualified) synchronously with `event`.
    pub async fn invoke(&self, name: &str, event: Value) -> Answer {
        self.lambda("POST", &format!("/2015-03-31/functions/{name}/invocations"), event).await
    }

    /// Stops the server as SIGTERM would (open requests finish, environments are
    /// stopped) and removes its data.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the server stops cleanly");
        }
    }

    /// Moves the server's clock (the async queue's and SQS's) forward.
    pub async fn advance_clock(&self, by: Duration) {
        let path = format!("/_lamina/clock?advance_secs={}", by.as_secs_f64());
        let answer = self.request("lambda", "POST", &path, &[], Vec::new()).await;
        assert_eq!(answer.status, 204, "moving the clock: {}", answer.body);
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// The echo function's package: `bootstrap`, executable.
fn echo_package() -> Vec<u8> {
    let script = include_bytes!("../fixtures/echo-bootstrap.sh");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    zip.start_file("bootstrap", options).expect("a zip entry");
    zip.write_all(script).expect("writing the entry");
    zip.finish().expect("a whole zip").into_inner()
}
