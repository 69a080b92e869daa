//! The closed sets both control planes share, stored by their AWS names.

use serde::{Deserialize, Serialize};

model::aws_enum! {
    /// An integration's `type` (REST) or `integrationType` (HTTP and WebSocket APIs):
    /// what answers a method or route.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(try_from = "String", into = "String")]
    pub enum IntegrationType {
        /// `HTTP`: an HTTP backend, with mapping templates.
        Http = "HTTP",
        /// `HTTP_PROXY`: an HTTP backend, passed the request as it came.
        HttpProxy = "HTTP_PROXY",
        /// `AWS`: an AWS service action (Lamina: a Lambda function), with mapping templates.
        Aws = "AWS",
        /// `AWS_PROXY`: a Lambda function, passed the request as its event.
        #[default]
        AwsProxy = "AWS_PROXY",
        /// `MOCK`: API Gateway answers from the integration's templates.
        Mock = "MOCK",
    }
}

impl IntegrationType {
    /// Whether it takes an HTTP URL (`HTTP`, `HTTP_PROXY`).
    pub fn is_http(self) -> bool {
        matches!(self, IntegrationType::Http | IntegrationType::HttpProxy)
    }

    /// Whether it names an AWS ARN (`AWS`, `AWS_PROXY`).
    pub fn is_aws(self) -> bool {
        matches!(self, IntegrationType::Aws | IntegrationType::AwsProxy)
    }
}

model::aws_enum! {
    /// A method's or route's `authorizationType`: who may call it. REST APIs take the
    /// first four, HTTP and WebSocket APIs all but `COGNITO_USER_POOLS`.
    #[derive(Default, Serialize, Deserialize)]
    #[serde(try_from = "String", into = "String")]
    pub enum AuthorizationType {
        /// `NONE`: anyone.
        #[default]
        None = "NONE",
        /// `AWS_IAM`: signed callers whose policies allow `execute-api:Invoke`.
        AwsIam = "AWS_IAM",
        /// `CUSTOM`: callers a Lambda authorizer allows.
        Custom = "CUSTOM",
        /// `COGNITO_USER_POOLS`: callers with a user pool's token (REST APIs).
        CognitoUserPools = "COGNITO_USER_POOLS",
        /// `JWT`: callers with a token a JWT authorizer accepts (HTTP APIs).
        Jwt = "JWT",
    }
}

impl AuthorizationType {
    /// Whether it names an authorizer (`CUSTOM`, `COGNITO_USER_POOLS`, `JWT`).
    pub fn uses_authorizer(self) -> bool {
        matches!(self, AuthorizationType::Custom | AuthorizationType::CognitoUserPools | AuthorizationType::Jwt)
    }

    /// Reads an `authorizationType` one of `allowed`, with AWS's refusal of anything else.
    pub(crate) fn read(text: &str, allowed: &[AuthorizationType]) -> Result<AuthorizationType, crate::GatewayError> {
        AuthorizationType::parse(text)
            .filter(|t| allowed.contains(t))
            .ok_or_else(|| crate::GatewayError::BadRequest(format!("Invalid authorization type specified: {text}")))
    }
}

model::aws_enum! {
    /// An integration's `passthroughBehavior`: what a request whose content type no
    /// request template names is sent as.
    #[derive(Default)]
    pub enum PassthroughBehavior {
        /// `WHEN_NO_MATCH`, the default: the body as it came.
        #[default]
        WhenNoMatch = "WHEN_NO_MATCH",
        /// `WHEN_NO_TEMPLATES`: as it came if the integration has no templates at all,
        /// else refused.
        WhenNoTemplates = "WHEN_NO_TEMPLATES",
        /// `NEVER`: refused.
        Never = "NEVER",
    }
}

impl PassthroughBehavior {
    /// A stored `passthroughBehavior` (kept as given: the model's enum check guards the
    /// wire), read; the default when none was given.
    pub fn of(given: Option<&str>) -> PassthroughBehavior {
        given.and_then(PassthroughBehavior::parse).unwrap_or_default()
    }
}

/// An input whose closed-set member (a method's `authorizationType`, an integration's or
/// authorizer's `type`) is still the caller's text: AWS checks it in its turn among the
/// input's other members, so it is read only then.
#[derive(Debug, Clone, Default)]
pub struct Draft<T> {
    /// The member as given.
    pub kind: String,
    /// The rest of the input; its own field for the member is filled when it is read.
    pub item: T,
}

impl<T> Draft<T> {
    /// `item`, with `kind` as given.
    pub fn new(kind: impl Into<String>, item: T) -> Draft<T> {
        Draft { kind: kind.into(), item }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_sets_are_stored_by_their_aws_names_and_nothing_else_is_read() {
        assert_eq!(serde_json::to_string(&IntegrationType::AwsProxy).unwrap(), r#""AWS_PROXY""#);
        let read: AuthorizationType = serde_json::from_str(r#""COGNITO_USER_POOLS""#).unwrap();
        assert_eq!(read, AuthorizationType::CognitoUserPools);
        assert!(serde_json::from_str::<IntegrationType>(r#""aws_proxy""#).is_err());
    }

    #[test]
    fn an_authorization_type_outside_a_planes_set_is_refused_in_aws_words() {
        let rest = [AuthorizationType::None, AuthorizationType::Custom];
        assert_eq!(AuthorizationType::read("CUSTOM", &rest).unwrap(), AuthorizationType::Custom);
        for text in ["JWT", "custom", ""] {
            let e = AuthorizationType::read(text, &rest).unwrap_err();
            assert_eq!(e.to_string(), format!("Invalid authorization type specified: {text}"));
        }
    }
}
