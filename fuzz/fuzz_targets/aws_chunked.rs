//! S3's `aws-chunked` upload encoding, decoded as it arrives in two pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cut, body) = match data.split_first() {
        Some((cut, body)) => (*cut as usize * body.len() / 256, body),
        None => (0, data),
    };
    aws_api::fuzz::aws_chunked(body, cut);
});
