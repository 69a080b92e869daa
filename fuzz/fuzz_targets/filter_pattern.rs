//! CloudWatch Logs filter patterns: any text parsed (at any length: the 1,024-character
//! cap is the service's, the parser must hold without it), and matched against a message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (pattern, message) = text.split_once('\n').unwrap_or((&text, r#"{"a": 1, "b": [true, null, "x y"]}"#));
    if let Ok(p) = logs::Pattern::parse(pattern) {
        let _ = p.matches(message);
        let _ = p.matches("127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326");
    }
});
