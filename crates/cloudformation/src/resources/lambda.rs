//! `AWS::Lambda::*`: functions (inline `ZipFile` code or S3's), permissions, versions,
//! aliases, event source mappings, function URLs, event invoke configurations, layer
//! versions and their permissions.

use std::io::Write as _;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::{int, string, tag_map, Ctx, Failed, Kind, Made};
use crate::stack::Resource;

/// How long a create or update waits for the function to be ready.
const READY_WITHIN: Duration = Duration::from_secs(120);

/// An inline `ZipFile` as the package Lambda takes: one file, `index.<ext>` by runtime.
fn inline_package(code: &str, runtime: &str) -> Result<String, Failed> {
    let file = if runtime.starts_with("nodejs") {
        "index.js"
    } else if runtime.starts_with("python") {
        "index.py"
    } else {
        return Err(Failed::invalid(format!(
            "ZipFile can only be used when Runtime is set to either of Node.js or Python runtimes, not {runtime}"
        )));
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o644);
    let written = zip.start_file(file, options).and_then(|_| zip.write_all(code.as_bytes()).map_err(Into::into));
    let bytes = written.and_then(|_| zip.finish()).map_err(|e| Failed::invalid(format!("ZipFile: {e}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes.into_inner()))
}

fn code(props: &Value) -> Result<Value, Failed> {
    let c = props.get("Code").cloned().unwrap_or_else(|| json!({}));
    let mut out = Map::new();
    if let Some(inline) = c.get("ZipFile") {
        let runtime = props.get("Runtime").map(string).unwrap_or_default();
        out.insert("ZipFile".into(), Value::String(inline_package(&string(inline), &runtime)?));
    }
    for key in ["S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri"] {
        if let Some(v) = c.get(key) {
            out.insert(key.into(), Value::String(string(v)));
        }
    }
    Ok(Value::Object(out))
}

/// The configuration members of Create/UpdateFunctionConfiguration the properties set;
/// `reset` writes the defaults of those left out (an update's removed properties).
fn configuration(props: &Value, reset: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<Value>, default: Value| match v {
        Some(v) => {
            out.insert(k.to_owned(), v);
        }
        None if reset => {
            out.insert(k.to_owned(), default);
        }
        None => {}
    };
    let text = |k: &str| props.get(k).map(|v| Value::String(string(v)));
    put("Role", text("Role"), Value::Null);
    put("Handler", text("Handler"), Value::Null);
    put("Runtime", text("Runtime"), Value::Null);
    put("Description", text("Description"), json!(""));
    put("Timeout", int(props.get("Timeout")).map(Value::from), json!(3));
    put("MemorySize", int(props.get("MemorySize")).map(Value::from), json!(128));
    put("Environment", props.get("Environment").cloned(), json!({"Variables": {}}));
    put(
        "Layers",
        props
            .get("Layers")
            .map(|l| Value::from(l.as_array().map(|a| a.iter().map(string).collect::<Vec<_>>()).unwrap_or_default())),
        json!([]),
    );
    put("TracingConfig", props.get("TracingConfig").cloned(), json!({"Mode": "PassThrough"}));
    put("DeadLetterConfig", props.get("DeadLetterConfig").cloned(), Value::Null);
    put("KMSKeyArn", text("KmsKeyArn"), Value::Null);
    put("LoggingConfig", props.get("LoggingConfig").cloned(), Value::Null);
    put("VpcConfig", props.get("VpcConfig").cloned(), Value::Null);
    put("FileSystemConfigs", props.get("FileSystemConfigs").cloned(), Value::Null);
    put("ImageConfig", props.get("ImageConfig").cloned(), Value::Null);
    put("SnapStart", props.get("SnapStart").cloned(), Value::Null);
    put(
        "EphemeralStorage",
        props.get("EphemeralStorage").map(|e| json!({"Size": int(e.get("Size")).unwrap_or(512)})),
        json!({"Size": 512}),
    );
    out.retain(|_, v| !v.is_null());
    out
}

/// Waits until the function is neither `Pending` nor updating.
async fn ready(ctx: &Ctx<'_>, name: &str) -> Result<Value, Failed> {
    let deadline = tokio::time::Instant::now() + READY_WITHIN;
    let mut pause = Duration::from_millis(5);
    loop {
        let c = ctx.call("lambda", "GetFunctionConfiguration", json!({"FunctionName": name})).await?;
        let state = c["State"].as_str().unwrap_or("Active");
        let update = c["LastUpdateStatus"].as_str().unwrap_or("Successful");
        if state == "Failed" || update == "Failed" {
            let why = c["StateReason"].as_str().or(c["LastUpdateStatusReason"].as_str()).unwrap_or("failed");
            return Err(Failed { code: "NotStabilized", message: why.to_owned() });
        }
        if state != "Pending" && update != "InProgress" {
            return Ok(c);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(Failed { code: "NotStabilized", message: format!("Function {name} did not become ready") });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

async fn concurrency(ctx: &Ctx<'_>, name: &str, props: &Value, before: Option<&Value>) -> Result<(), Failed> {
    let (was, is) = (
        before.and_then(|b| int(b.get("ReservedConcurrentExecutions"))),
        int(props.get("ReservedConcurrentExecutions")),
    );
    match (was, is) {
        (_, Some(n)) if was != is => {
            ctx.call(
                "lambda",
                "PutFunctionConcurrency",
                json!({"FunctionName": name, "ReservedConcurrentExecutions": n}),
            )
            .await?;
        }
        (Some(_), None) => {
            ctx.call("lambda", "DeleteFunctionConcurrency", json!({"FunctionName": name})).await?;
        }
        _ => {}
    }
    Ok(())
}

fn routing(props: &Value) -> Option<Value> {
    let weights = props.pointer("/RoutingConfig/AdditionalVersionWeights")?.as_array()?;
    let map: Map<String, Value> = weights
        .iter()
        .map(|w| {
            let weight = w.get("FunctionWeight").map(|v| string(v).parse::<f64>().unwrap_or(0.0)).unwrap_or(0.0);
            (w.get("FunctionVersion").map(string).unwrap_or_default(), json!(weight))
        })
        .collect();
    Some(json!({"AdditionalVersionWeights": map}))
}

async fn provisioned(
    ctx: &Ctx<'_>,
    function: &str,
    qualifier: &str,
    props: &Value,
    before: Option<&Value>,
) -> Result<(), Failed> {
    let get = |v: &Value| int(v.pointer("/ProvisionedConcurrencyConfig/ProvisionedConcurrentExecutions"));
    let (was, is) = (before.and_then(get), get(props));
    match (was, is) {
        (_, Some(n)) if was != is => {
            let input = json!({"FunctionName": function, "Qualifier": qualifier, "ProvisionedConcurrentExecutions": n});
            ctx.call("lambda", "PutProvisionedConcurrencyConfig", input).await?;
            provisioned_ready(ctx, function, qualifier).await?;
        }
        (Some(_), None) => {
            ctx.call_gone_ok(
                "lambda",
                "DeleteProvisionedConcurrencyConfig",
                json!({"FunctionName": function, "Qualifier": qualifier}),
            )
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Waits, as CloudFormation does, until the provisioned environments are ready.
async fn provisioned_ready(ctx: &Ctx<'_>, function: &str, qualifier: &str) -> Result<(), Failed> {
    let deadline = tokio::time::Instant::now() + READY_WITHIN;
    let mut pause = Duration::from_millis(5);
    let input = json!({"FunctionName": function, "Qualifier": qualifier});
    loop {
        let config = ctx.call("lambda", "GetProvisionedConcurrencyConfig", input.clone()).await?;
        match config["Status"].as_str() {
            Some("READY") => return Ok(()),
            Some("FAILED") => {
                let why = config["StatusReason"].as_str().unwrap_or("failed");
                return Err(Failed { code: "NotStabilized", message: why.to_owned() });
            }
            _ if tokio::time::Instant::now() > deadline => {
                let message = format!("Provisioned concurrency of {function}:{qualifier} did not become ready");
                return Err(Failed { code: "NotStabilized", message });
            }
            _ => {}
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// The members of an event source mapping the properties set.
fn mapping(props: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for key in [
        "FunctionName",
        "EventSourceArn",
        "StartingPosition",
        "StartingPositionTimestamp",
        "FilterCriteria",
        "FunctionResponseTypes",
        "ScalingConfig",
        "DestinationConfig",
        "Queues",
        "Topics",
        "SourceAccessConfigurations",
        "DocumentDBEventSourceConfig",
        "KmsKeyArn",
        "MetricsConfig",
        "Tags",
    ] {
        if let Some(v) = props.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    for key in [
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "MaximumRecordAgeInSeconds",
        "MaximumRetryAttempts",
        "ParallelizationFactor",
        "TumblingWindowInSeconds",
    ] {
        if let Some(n) = int(props.get(key)) {
            out.insert(key.to_owned(), json!(n));
        }
    }
    for key in ["Enabled", "BisectBatchOnFunctionError"] {
        if let Some(b) = super::boolean(props.get(key)) {
            out.insert(key.to_owned(), json!(b));
        }
    }
    if let Some(Value::Array(_)) = out.get("Tags") {
        out.insert("Tags".into(), Value::Object(tag_map(props.get("Tags"))));
    }
    out
}

fn invoke_config(props: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("FunctionName".into(), Value::String(props.get("FunctionName").map(string).unwrap_or_default()));
    out.insert(
        "Qualifier".into(),
        Value::String(props.get("Qualifier").map(string).unwrap_or_else(|| "$LATEST".into())),
    );
    for key in ["MaximumEventAgeInSeconds", "MaximumRetryAttempts"] {
        if let Some(n) = int(props.get(key)) {
            out.insert(key.to_owned(), json!(n));
        }
    }
    if let Some(d) = props.get("DestinationConfig") {
        out.insert("DestinationConfig".into(), d.clone());
    }
    out
}

fn url_config(props: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("FunctionName".into(), Value::String(props.get("TargetFunctionArn").map(string).unwrap_or_default()));
    if let Some(q) = props.get("Qualifier") {
        out.insert("Qualifier".into(), Value::String(string(q)));
    }
    for key in ["AuthType", "InvokeMode"] {
        if let Some(v) = props.get(key) {
            out.insert(key.to_owned(), Value::String(string(v)));
        }
    }
    if let Some(c) = props.get("Cors") {
        let mut cors = c.clone();
        if let Some(age) = int(c.get("MaxAge")) {
            cors["MaxAge"] = json!(age);
        }
        if let Some(b) = super::boolean(c.get("AllowCredentials")) {
            cors["AllowCredentials"] = json!(b);
        }
        out.insert("Cors".into(), cors);
    }
    out
}

/// A layer version's ARN, split: `(layer ARN or name, version)`.
fn layer_parts(arn: &str) -> (String, i64) {
    match arn.rsplit_once(':') {
        Some((layer, v)) => (layer.to_owned(), v.parse().unwrap_or(0)),
        None => (arn.to_owned(), 0),
    }
}

pub(super) async fn create(kind: &Kind, ctx: &Ctx<'_>, props: &Value) -> Result<Made, Failed> {
    match kind.name {
        "AWS::Lambda::Function" => {
            let name = props.get("FunctionName").map(string).unwrap_or_default();
            let mut input = configuration(props, false);
            input.insert("FunctionName".into(), json!(name));
            input.insert("Code".into(), code(props)?);
            if let Some(a) = props.get("Architectures") {
                input.insert("Architectures".into(), a.clone());
            }
            if let Some(p) = props.get("PackageType") {
                input.insert("PackageType".into(), Value::String(string(p)));
            }
            if let Some(c) = props.get("CodeSigningConfigArn") {
                input.insert("CodeSigningConfigArn".into(), Value::String(string(c)));
            }
            let tags = tag_map(props.get("Tags"));
            if !tags.is_empty() {
                input.insert("Tags".into(), Value::Object(tags));
            }
            let out = ctx.call("lambda", "CreateFunction", Value::Object(input)).await?;
            concurrency(ctx, &name, props, None).await?;
            ready(ctx, &name).await?;
            Ok(Made::new(name, json!({"Arn": out["FunctionArn"]})))
        }
        "AWS::Lambda::Permission" => {
            let id = super::generated_name(ctx.stack_name, ctx.logical, 100, false);
            let mut input = json!({"StatementId": id});
            for key in [
                "FunctionName",
                "Action",
                "Principal",
                "SourceArn",
                "SourceAccount",
                "EventSourceToken",
                "PrincipalOrgID",
                "FunctionUrlAuthType",
            ] {
                if let Some(v) = props.get(key) {
                    input[key] = Value::String(string(v));
                }
            }
            if let Some(b) = super::boolean(props.get("InvokedViaFunctionUrl")) {
                input["InvokedViaFunctionUrl"] = json!(b);
            }
            ctx.call("lambda", "AddPermission", input).await?;
            Ok(Made::new(id, json!({})))
        }
        "AWS::Lambda::Version" => {
            let function = props.get("FunctionName").map(string).unwrap_or_default();
            let mut input = json!({"FunctionName": function});
            for key in ["Description", "CodeSha256"] {
                if let Some(v) = props.get(key) {
                    input[key] = Value::String(string(v));
                }
            }
            ready(ctx, &function).await?;
            let out = ctx.call("lambda", "PublishVersion", input).await?;
            let arn = out["FunctionArn"].as_str().unwrap_or_default().to_owned();
            let version = out["Version"].as_str().unwrap_or_default().to_owned();
            provisioned(ctx, &function, &version, props, None).await?;
            let unqualified = layer_parts(&arn).0;
            Ok(Made::new(arn, json!({"Version": version, "FunctionArn": unqualified})))
        }
        "AWS::Lambda::Alias" => {
            let function = props.get("FunctionName").map(string).unwrap_or_default();
            let mut input = json!({
                "FunctionName": function,
                "Name": props.get("Name").map(string).unwrap_or_default(),
                "FunctionVersion": props.get("FunctionVersion").map(string).unwrap_or_default(),
            });
            if let Some(d) = props.get("Description") {
                input["Description"] = Value::String(string(d));
            }
            if let Some(r) = routing(props) {
                input["RoutingConfig"] = r;
            }
            let out = ctx.call("lambda", "CreateAlias", input).await?;
            let arn = out["AliasArn"].as_str().unwrap_or_default().to_owned();
            provisioned(ctx, &function, out["Name"].as_str().unwrap_or_default(), props, None).await?;
            Ok(Made::new(arn.clone(), json!({"AliasArn": arn})))
        }
        "AWS::Lambda::EventSourceMapping" => {
            let out = ctx.call("lambda", "CreateEventSourceMapping", Value::Object(mapping(props))).await?;
            let id = out["UUID"].as_str().unwrap_or_default().to_owned();
            let arn = ctx.arn("lambda", &format!("event-source-mapping:{id}"));
            Ok(Made::new(id.clone(), json!({"Id": id, "EventSourceMappingArn": arn})))
        }
        "AWS::Lambda::Url" => {
            let out = ctx.call("lambda", "CreateFunctionUrlConfig", Value::Object(url_config(props))).await?;
            let arn = out["FunctionArn"].as_str().unwrap_or_default().to_owned();
            Ok(Made::new(arn.clone(), json!({"FunctionArn": arn, "FunctionUrl": out["FunctionUrl"]})))
        }
        "AWS::Lambda::EventInvokeConfig" => {
            ctx.call("lambda", "PutFunctionEventInvokeConfig", Value::Object(invoke_config(props))).await?;
            Ok(Made::new(super::generated_name(ctx.stack_name, ctx.logical, 128, false), json!({})))
        }
        "AWS::Lambda::LayerVersion" => {
            let name = props
                .get("LayerName")
                .map(string)
                .unwrap_or_else(|| super::generated_name(ctx.stack_name, ctx.logical, 140, false));
            let mut input =
                json!({"LayerName": name, "Content": props.get("Content").cloned().unwrap_or_else(|| json!({}))});
            for key in ["Description", "LicenseInfo"] {
                if let Some(v) = props.get(key) {
                    input[key] = Value::String(string(v));
                }
            }
            for key in ["CompatibleRuntimes", "CompatibleArchitectures"] {
                if let Some(v) = props.get(key) {
                    input[key] = v.clone();
                }
            }
            let out = ctx.call("lambda", "PublishLayerVersion", input).await?;
            let arn = out["LayerVersionArn"].as_str().unwrap_or_default().to_owned();
            Ok(Made::new(arn.clone(), json!({"LayerVersionArn": arn})))
        }
        _ => {
            let (layer, version) = layer_parts(&props.get("LayerVersionArn").map(string).unwrap_or_default());
            let id = super::generated_name(ctx.stack_name, ctx.logical, 100, false);
            let mut input = json!({
                "LayerName": layer, "VersionNumber": version, "StatementId": id,
                "Action": props.get("Action").map(string).unwrap_or_default(),
                "Principal": props.get("Principal").map(string).unwrap_or_default(),
            });
            if let Some(o) = props.get("OrganizationId") {
                input["OrganizationId"] = Value::String(string(o));
            }
            ctx.call("lambda", "AddLayerVersionPermission", input).await?;
            Ok(Made::new(format!("{layer}:{version}#{id}"), json!({})))
        }
    }
}

pub(super) async fn update(kind: &Kind, ctx: &Ctx<'_>, old: &Resource, props: &Value) -> Result<Made, Failed> {
    let physical = old.physical.clone().unwrap_or_default();
    match kind.name {
        "AWS::Lambda::Function" => {
            let name = physical;
            let mut input = configuration(props, true);
            input.insert("FunctionName".into(), json!(name));
            ctx.call("lambda", "UpdateFunctionConfiguration", Value::Object(input)).await?;
            ready(ctx, &name).await?;
            if old.properties.get("Code") != props.get("Code") || old.properties.get("Runtime") != props.get("Runtime")
            {
                let mut input = code(props)?;
                input["FunctionName"] = json!(name);
                if let Some(a) = props.get("Architectures") {
                    input["Architectures"] = a.clone();
                }
                ctx.call("lambda", "UpdateFunctionCode", input).await?;
                ready(ctx, &name).await?;
            }
            concurrency(ctx, &name, props, Some(&old.properties)).await?;
            let arn = old.attributes.get("Arn").cloned().unwrap_or_default();
            let (before, after) = (tag_map(old.properties.get("Tags")), tag_map(props.get("Tags")));
            if before != after {
                let gone: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
                if !gone.is_empty() {
                    ctx.call("lambda", "UntagResource", json!({"Resource": arn, "TagKeys": gone})).await?;
                }
                if !after.is_empty() {
                    ctx.call("lambda", "TagResource", json!({"Resource": arn, "Tags": after})).await?;
                }
            }
            Ok(Made::new(name, json!({"Arn": arn})))
        }
        "AWS::Lambda::Alias" => {
            let function = props.get("FunctionName").map(string).unwrap_or_default();
            let name = props.get("Name").map(string).unwrap_or_default();
            let mut input = json!({
                "FunctionName": function, "Name": name,
                "FunctionVersion": props.get("FunctionVersion").map(string).unwrap_or_default(),
                "Description": props.get("Description").map(string).unwrap_or_default(),
                "RoutingConfig": routing(props).unwrap_or_else(|| json!({"AdditionalVersionWeights": {}})),
            });
            if input["RoutingConfig"].is_null() {
                input.as_object_mut().map(|o| o.remove("RoutingConfig"));
            }
            ctx.call("lambda", "UpdateAlias", input).await?;
            provisioned(ctx, &function, &name, props, Some(&old.properties)).await?;
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::Lambda::EventSourceMapping" => {
            let mut input = mapping(props);
            for key in ["EventSourceArn", "StartingPosition", "StartingPositionTimestamp", "Tags", "Queues", "Topics"] {
                input.remove(key);
            }
            input.insert("UUID".into(), json!(physical));
            ctx.call("lambda", "UpdateEventSourceMapping", Value::Object(input)).await?;
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        "AWS::Lambda::Url" => {
            let mut input = url_config(props);
            if !input.contains_key("Cors") {
                input.insert("Cors".into(), json!({}));
            }
            let out = ctx.call("lambda", "UpdateFunctionUrlConfig", Value::Object(input)).await?;
            Ok(Made::new(physical.clone(), json!({"FunctionArn": physical, "FunctionUrl": out["FunctionUrl"]})))
        }
        "AWS::Lambda::EventInvokeConfig" => {
            ctx.call("lambda", "PutFunctionEventInvokeConfig", Value::Object(invoke_config(props))).await?;
            Ok(Made { physical, attributes: old.attributes.clone() })
        }
        // Permissions, versions and layer versions change only by replacement.
        _ => Ok(Made { physical, attributes: old.attributes.clone() }),
    }
}

pub(super) async fn delete(kind: &Kind, ctx: &Ctx<'_>, old: &Resource) -> Result<(), Failed> {
    let physical = old.physical.clone().unwrap_or_default();
    let props = &old.properties;
    match kind.name {
        "AWS::Lambda::Function" => {
            ctx.call_gone_ok("lambda", "DeleteFunction", json!({"FunctionName": physical})).await
        }
        "AWS::Lambda::Permission" => {
            let function = props.get("FunctionName").map(string).unwrap_or_default();
            ctx.call_gone_ok("lambda", "RemovePermission", json!({"FunctionName": function, "StatementId": physical}))
                .await
        }
        "AWS::Lambda::Version" => {
            let (function, version) = layer_parts(&physical);
            ctx.call_gone_ok(
                "lambda",
                "DeleteFunction",
                json!({"FunctionName": function, "Qualifier": version.to_string()}),
            )
            .await
        }
        "AWS::Lambda::Alias" => {
            let function = props.get("FunctionName").map(string).unwrap_or_default();
            let name = props.get("Name").map(string).unwrap_or_default();
            ctx.call_gone_ok("lambda", "DeleteAlias", json!({"FunctionName": function, "Name": name})).await
        }
        "AWS::Lambda::EventSourceMapping" => {
            ctx.call_gone_ok("lambda", "DeleteEventSourceMapping", json!({"UUID": physical})).await
        }
        "AWS::Lambda::Url" => {
            let mut input = json!({"FunctionName": props.get("TargetFunctionArn").map(string).unwrap_or_default()});
            if let Some(q) = props.get("Qualifier") {
                input["Qualifier"] = Value::String(string(q));
            }
            ctx.call_gone_ok("lambda", "DeleteFunctionUrlConfig", input).await
        }
        "AWS::Lambda::EventInvokeConfig" => {
            let i = invoke_config(props);
            let input = json!({"FunctionName": i["FunctionName"], "Qualifier": i["Qualifier"]});
            ctx.call_gone_ok("lambda", "DeleteFunctionEventInvokeConfig", input).await
        }
        "AWS::Lambda::LayerVersion" => {
            let (layer, version) = layer_parts(&physical);
            let name = layer.rsplit(':').next().unwrap_or_default().to_owned();
            ctx.call_gone_ok("lambda", "DeleteLayerVersion", json!({"LayerName": name, "VersionNumber": version})).await
        }
        _ => {
            let (arn, id) = physical.split_once('#').unwrap_or((&physical, ""));
            let (layer, version) = layer_parts(arn);
            let input = json!({"LayerName": layer, "VersionNumber": version, "StatementId": id});
            ctx.call_gone_ok("lambda", "RemoveLayerVersionPermission", input).await
        }
    }
}
