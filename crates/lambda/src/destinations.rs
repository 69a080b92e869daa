//! Where asynchronous invocations' destination records and dead-letter messages go
//! besides other functions: SQS queues and SNS topics, each asked whether the sending
//! function's account may deliver (its resource policy decides for another account).

use sns::SnsService;
use sqs::{Requester, SqsService};

/// A message for a queue or topic: a destination record, or a dead-letter message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message body.
    pub body: String,
    /// Message attributes: name, data type (`String` or `Number`) and value.
    pub attributes: Vec<(String, &'static str, String)>,
}

/// The ARN's service part (`lambda`, `sqs`, …).
pub(crate) fn arn_service(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")?.split(':').nth(1)
}

/// The queues and topics a function's records and dead letters may go to.
#[derive(Clone)]
pub struct Destinations {
    sqs: SqsService,
    sns: SnsService,
}

impl Destinations {
    /// Delivery through these services.
    pub fn new(sqs: SqsService, sns: SnsService) -> Destinations {
        Destinations { sqs, sns }
    }

    /// Whether records and messages can be delivered to `arn`: a function, a queue or a
    /// topic.
    pub fn can_deliver(&self, arn: &str) -> bool {
        matches!(arn_service(arn), Some("lambda" | "sqs" | "sns"))
    }

    /// Whether a function of account `sender` may deliver to the queue or topic `arn`;
    /// `None` when there is no such resource.
    pub fn permits(&self, arn: &str, sender: &str) -> Option<bool> {
        match arn_service(arn)? {
            "sqs" => self.sqs.allows(arn, &Requester::Account(sender), "sqs:SendMessage"),
            "sns" => self.sns.permits(arn, &Requester::Account(sender)),
            _ => None,
        }
    }

    /// Durably delivers `message` to the queue or topic `arn` for a function of account
    /// `sender`, or says why it cannot (the target's policy is asked again every time).
    pub async fn send(&self, arn: &str, sender: &str, message: Message) -> Result<(), String> {
        match arn_service(arn) {
            Some("sqs") => {
                let attributes = message
                    .attributes
                    .into_iter()
                    .map(|(k, t, v)| (k, sqs::AttributeValue { data_type: t.into(), string: Some(v), binary: None }))
                    .collect();
                let input = sqs::SendInput { body: message.body, attributes, ..Default::default() };
                delivered(self.sqs.send_to_arn(arn, &Requester::Account(sender), input), "queue")
            }
            Some("sns") => {
                let attributes = message
                    .attributes
                    .into_iter()
                    .map(|(k, t, v)| (k, sns::Attribute { data_type: t.into(), value: v }))
                    .collect();
                let input = sns::PublishInput { message: message.body, attributes, ..Default::default() };
                delivered(self.sns.publish_to_arn(arn, &Requester::Account(sender), input).await, "topic")
            }
            _ => Err("no service delivers to it".to_owned()),
        }
    }
}

/// A delivery's outcome: `Ok(false)` means the target `what` does not exist.
fn delivered<E: std::fmt::Display>(outcome: Result<bool, E>, what: &str) -> Result<(), String> {
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("the {what} does not exist")),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_service() {
        assert_eq!(arn_service("arn:aws:sqs:us-east-1:000000000000:q"), Some("sqs"));
        assert_eq!(arn_service("queue"), None);
    }
}
