//! Resource policies (SQS queue and SNS topic policies): any document checked, and one
//! that passes evaluated for an account and for a service.
#![no_main]

use iam::resource_policy::{Requester, ResourcePolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = ResourcePolicy::parse(&text) {
        let queue = "arn:aws:sqs:us-east-1:111111111111:q";
        let _ = p.allows("111111111111", queue, &Requester::Account("222222222222"), "sqs:SendMessage");
        let sns = Requester::Service {
            service: "sns.amazonaws.com",
            source_arn: "arn:aws:sns:us-east-1:222222222222:t",
            source_account: "222222222222",
        };
        let _ = p.allows("111111111111", queue, &sns, "sqs:SendMessage");
    }
});
