//! Where services depart from the generic rules, in one table: which error invalid input
//! answers, how validation paths are written, how JSON errors name their type.

/// How a service answers input that breaks the model's constraints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// AWS's generic validation (`1 validation error detected: Value … at … failed to
    /// satisfy constraint: …`), answered with this code and status 400.
    Checked(&'static str),
    /// The service checks its own input, in its own words (S3, SQS).
    Unchecked,
}

/// A service's departures from the generic rules.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// How invalid input is answered.
    pub validation: Validation,
    /// Validation paths of body members start with `<operation>Input.` (API Gateway's
    /// `createRestApiInput.endpointConfiguration.types`).
    pub input_prefix: bool,
    /// A list whose members break their constraints lists `Member must not be null`
    /// among them (Lambda does; API Gateway does not).
    pub list_not_null: bool,
    /// Prefix of `__type` in the json protocol's errors (`com.amazonaws.sqs#`).
    pub json_type_prefix: &'static str,
    /// The code answered when the body cannot be read.
    pub malformed: &'static str,
    /// What the message of an unreadable body starts with (Lambda's `Could not parse
    /// request body into json: `).
    pub malformed_prefix: &'static str,
    /// Where the query protocol's `InvalidAction` says an action is not valid
    /// (`for this web service`, SQS's `for this endpoint`).
    pub invalid_action_for: &'static str,
    /// Members (validation paths) the service checks itself, in its own words or order:
    /// the model's check leaves them alone (Lambda's `runtime`, answered as
    /// `InvalidParameterValueException` with its own list of runtimes). `Operation:path`
    /// names a member of one operation only.
    pub own_checks: &'static [&'static str],
    /// Enums whose values the service lists in an order of its own (not the model's) when
    /// a value breaks them.
    pub enum_orders: &'static [&'static [&'static str]],
    /// Maps keep a key whose value is null (API Gateway keeps such a response template,
    /// empty); elsewhere a null is dropped like an absent member.
    pub sparse_maps: bool,
    /// The query protocol's errors carry an empty `<Detail/>` (SQS's do).
    pub query_error_detail: bool,
}

/// API Gateway's orders, as its validation messages list them.
const APIGATEWAY_ENUM_ORDERS: &[&[&str]] = &[
    &["add", "remove", "move", "test", "replace", "copy"],
    &["ipv4", "dualstack"],
    &["PRIVATE", "EDGE", "REGIONAL"],
    &["HTTP", "MOCK", "AWS_PROXY", "HTTP_PROXY", "AWS"],
    &[
        "RESPONSE_BODY",
        "RESPONSE",
        "METHOD",
        "MODEL",
        "AUTHORIZER",
        "RESPONSE_HEADER",
        "RESOURCE",
        "PATH_PARAMETER",
        "REQUEST_BODY",
        "QUERY_PARAMETER",
        "API",
        "REQUEST_HEADER",
    ],
    &[
        "REQUEST_TOO_LARGE",
        "RESOURCE_NOT_FOUND",
        "AUTHORIZER_CONFIGURATION_ERROR",
        "MISSING_AUTHENTICATION_TOKEN",
        "BAD_REQUEST_BODY",
        "INVALID_SIGNATURE",
        "INVALID_API_KEY",
        "BAD_REQUEST_PARAMETERS",
        "AUTHORIZER_FAILURE",
        "UNAUTHORIZED",
        "INTEGRATION_TIMEOUT",
        "ACCESS_DENIED",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "WAF_FILTERED",
        "QUOTA_EXCEEDED",
        "THROTTLED",
        "API_CONFIGURATION_ERROR",
        "UNSUPPORTED_MEDIA_TYPE",
        "INTEGRATION_FAILURE",
        "EXPIRED_TOKEN",
    ],
];

impl Rules {
    /// The query protocol's answer to an action the service does not have.
    pub fn invalid_action(&self, action: &str) -> crate::ServiceError {
        crate::ServiceError::new(
            "InvalidAction",
            format!("The action {action} is not valid {}.", self.invalid_action_for),
        )
    }
}

const DEFAULT: Rules = Rules {
    validation: Validation::Checked("ValidationException"),
    input_prefix: false,
    list_not_null: true,
    json_type_prefix: "",
    malformed: "SerializationException",
    malformed_prefix: "",
    invalid_action_for: "for this web service",
    own_checks: &[],
    enum_orders: &[],
    sparse_maps: false,
    query_error_detail: false,
};

/// The rules of a service, by Lamina's name for it.
pub fn of(service: &str) -> Rules {
    match service {
        "lambda" => Rules {
            malformed: "InvalidRequestContentException",
            malformed_prefix: "Could not parse request body into json: ",
            own_checks: &["runtime"],
            enum_orders: &[&["Terminate", "Allow"], &["RESPONSE_STREAM", "BUFFERED"]],
            ..DEFAULT
        },
        "apigateway" => Rules {
            input_prefix: true,
            list_not_null: false,
            malformed: "BadRequestException",
            enum_orders: APIGATEWAY_ENUM_ORDERS,
            sparse_maps: true,
            ..DEFAULT
        },
        // Until AWS's answers are recorded, API Gateway v2 checks its own input.
        "apigatewayv2" | "apigatewaymanagementapi" => {
            Rules { validation: Validation::Unchecked, malformed: "BadRequestException", ..DEFAULT }
        }
        "logs" => Rules { validation: Validation::Checked("InvalidParameterException"), ..DEFAULT },
        // SNS words a missing subscription ARN itself (`Invalid parameter: SubscriptionArn
        // Reason: no value for required parameter`).
        "sns" => Rules {
            validation: Validation::Checked("ValidationError"),
            malformed: "MalformedQueryString",
            // SetPlatformApplicationAttributes reads its ARN before it wants attributes.
            own_checks: &["subscriptionArn", "SetPlatformApplicationAttributes:attributes"],
            ..DEFAULT
        },
        "sts" | "iam" | "cloudformation" | "cloudwatch" => {
            Rules { validation: Validation::Checked("ValidationError"), malformed: "MalformedQueryString", ..DEFAULT }
        }
        "sqs" => Rules {
            validation: Validation::Unchecked,
            json_type_prefix: "com.amazonaws.sqs#",
            malformed: "InvalidParameterValueException",
            invalid_action_for: "for this endpoint",
            query_error_detail: true,
            ..DEFAULT
        },
        "dynamodb" | "dynamodbstreams" => Rules { json_type_prefix: "com.amazonaws.dynamodb.v20120810#", ..DEFAULT },
        "s3" => Rules { validation: Validation::Unchecked, malformed: "MalformedXML", ..DEFAULT },
        _ => DEFAULT,
    }
}
