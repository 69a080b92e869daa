//! AWS's event stream framing (`application/vnd.amazon.eventstream`), in which streaming
//! operations (InvokeWithResponseStream) send their events: each message is its lengths,
//! a CRC32 of them, string headers (`:event-type`, `:content-type`, `:message-type`), the
//! payload, and a CRC32 of the whole.

use bytes::{BufMut, Bytes, BytesMut};

/// The content type of a response made of event stream messages.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// One message with string-valued headers.
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut encoded_headers = BytesMut::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(255)];
        let value = &value.as_bytes()[..value.len().min(u16::MAX as usize)];
        encoded_headers.put_u8(name.len() as u8);
        encoded_headers.put_slice(name);
        encoded_headers.put_u8(7); // string
        encoded_headers.put_u16(value.len() as u16);
        encoded_headers.put_slice(value);
    }
    let total = 12 + encoded_headers.len() + payload.len() + 4;
    let mut out = BytesMut::with_capacity(total);
    out.put_u32(total as u32);
    out.put_u32(encoded_headers.len() as u32);
    let prelude_crc = crc32fast::hash(&out[..8]);
    out.put_u32(prelude_crc);
    out.put_slice(&encoded_headers);
    out.put_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.put_u32(message_crc);
    out.freeze()
}

/// An event of a streaming operation's output: `:message-type` `event`.
pub fn event(event_type: &str, content_type: &str, payload: &[u8]) -> Bytes {
    message(&[(":event-type", event_type), (":content-type", content_type), (":message-type", "event")], payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_carries_its_lengths_and_checksums() {
        let m = event("PayloadChunk", "application/octet-stream", b"hello");
        let total = u32::from_be_bytes(m[0..4].try_into().unwrap()) as usize;
        let headers = u32::from_be_bytes(m[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, m.len());
        assert_eq!(u32::from_be_bytes(m[8..12].try_into().unwrap()), crc32fast::hash(&m[..8]));
        assert_eq!(&m[12 + headers..total - 4], b"hello");
        assert_eq!(u32::from_be_bytes(m[total - 4..].try_into().unwrap()), crc32fast::hash(&m[..total - 4]));
        // The first header: its name's length, the name, type 7 (string), the value.
        assert_eq!(m[12] as usize, ":event-type".len());
        assert_eq!(&m[13..24], b":event-type");
        assert_eq!(m[24], 7);
        assert_eq!(&m[27..39], b"PayloadChunk");
    }
}
