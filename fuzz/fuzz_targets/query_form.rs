//! The query protocol: a form-encoded body read as SQS's and SNS's actions read it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    aws_api::fuzz::query_form(data);
});
