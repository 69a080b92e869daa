//! `aws-chunked`, the body encoding S3's clients stream uploads in: chunks of
//! `<hex size>[;chunk-signature=<sig>]\r\n<bytes>\r\n`, a last chunk of size 0, then
//! trailing headers (`x-amz-checksum-crc32:…`) and an empty line. Decoded as it arrives,
//! with every line bounded; in authenticated mode each chunk's signature is checked as the
//! chunk ends, before its bytes can count.

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use s3::S3Error;

/// The longest chunk header or trailer line taken.
const MAX_LINE: usize = 4096;
/// The most trailer bytes taken.
const MAX_TRAILERS: usize = 16 * 1024;

fn malformed(why: &str) -> S3Error {
    S3Error::new("IncompleteBody", 400, format!("The aws-chunked body could not be read: {why}"))
}

/// What a step of decoding made.
enum Step {
    /// Data.
    Data(Bytes),
    /// A line or a chunk's end read: the next step may make more of the buffer.
    Moved,
    /// More input is needed.
    Wait,
}

/// Where the decoder is.
enum State {
    /// Reading a chunk's header line.
    Header,
    /// Reading `n` more bytes of a chunk's data.
    Data(usize),
    /// Reading the CRLF after a chunk's data.
    DataEnd,
    /// Reading trailer lines, until an empty one.
    Trailers(usize),
    /// Finished.
    Done,
}

/// Where a trailer's value goes once read: its name, and the slot.
pub(crate) type TrailerSlot = (String, std::sync::Arc<model::sync::Mutex<Option<String>>>);

struct Decoder<S> {
    input: S,
    buf: BytesMut,
    state: State,
    ended: bool,
    slot: Option<TrailerSlot>,
    /// The chunks' signatures, when they are checked: the signer, the current chunk's
    /// signature, and its data's digest so far.
    signed: Option<(sigv4::ChunkSigner, String, ring::digest::Context)>,
}

fn bad_chunk_signature() -> S3Error {
    S3Error::new(
        "SignatureDoesNotMatch",
        403,
        "The request signature we calculated does not match the signature you provided. Check your key and signing \
         method.",
    )
}

impl<S> Decoder<S>
where
    S: Stream<Item = Result<Bytes, S3Error>> + Unpin,
{
    /// The next piece of decoded data; `None` once the last chunk and trailers are read.
    async fn next(&mut self) -> Option<Result<Bytes, S3Error>> {
        loop {
            match self.step() {
                Ok(Step::Data(data)) => return Some(Ok(data)),
                Ok(_) if matches!(self.state, State::Done) => return None,
                Ok(Step::Moved) => continue,
                Ok(Step::Wait) => {}
                Err(e) => {
                    self.state = State::Done;
                    return Some(Err(e));
                }
            }
            {
                match self.input.next().await {
                    Some(Ok(more)) => self.buf.extend_from_slice(&more),
                    Some(Err(e)) => {
                        self.state = State::Done;
                        return Some(Err(e));
                    }
                    None if self.ended => {
                        self.state = State::Done;
                        return Some(Err(malformed("the body ended inside a chunk")));
                    }
                    None => self.ended = true,
                }
            }
        }
    }

    /// Decodes what the buffer holds.
    fn step(&mut self) -> Result<Step, S3Error> {
        match self.state {
            State::Header => {
                let Some(line) = self.line()? else { return Ok(Step::Wait) };
                let mut fields = line.split(';');
                let size = fields.next().unwrap_or("").trim();
                let size = usize::from_str_radix(size, 16).map_err(|_| malformed("a chunk size is not hex"))?;
                if let Some((_, current, digest)) = &mut self.signed {
                    let signature = fields.find_map(|f| f.trim().strip_prefix("chunk-signature="));
                    *current = signature.ok_or_else(bad_chunk_signature)?.to_owned();
                    *digest = ring::digest::Context::new(&ring::digest::SHA256);
                }
                if size == 0 {
                    self.chunk_ended()?;
                }
                self.state = if size == 0 { State::Trailers(0) } else { State::Data(size) };
                Ok(Step::Moved)
            }
            State::Data(left) => {
                if self.buf.is_empty() {
                    return Ok(Step::Wait);
                }
                let n = left.min(self.buf.len());
                let data = self.buf.split_to(n).freeze();
                if let Some((_, _, digest)) = &mut self.signed {
                    digest.update(&data);
                }
                self.state = if n == left { State::DataEnd } else { State::Data(left - n) };
                Ok(Step::Data(data))
            }
            State::DataEnd => {
                if self.buf.len() < 2 {
                    return Ok(Step::Wait);
                }
                if &self.buf[..2] != b"\r\n" {
                    return Err(malformed("a chunk does not end with CRLF"));
                }
                self.buf.advance(2);
                self.chunk_ended()?;
                self.state = State::Header;
                Ok(Step::Moved)
            }
            State::Trailers(taken) => {
                if self.ended && self.buf.is_empty() {
                    // Some clients end after the last chunk without the final empty line.
                    self.state = State::Done;
                    return Ok(Step::Moved);
                }
                let Some(line) = self.line()? else { return Ok(Step::Wait) };
                let taken = taken + line.len();
                if taken > MAX_TRAILERS {
                    return Err(malformed("the trailers are too long"));
                }
                if let (Some((name, slot)), Some((k, v))) = (&self.slot, line.split_once(':')) {
                    if k.trim().eq_ignore_ascii_case(name) {
                        *slot.lock() = Some(v.trim().to_owned());
                    }
                }
                self.state = if line.is_empty() { State::Done } else { State::Trailers(taken) };
                Ok(Step::Moved)
            }
            State::Done => Ok(Step::Moved),
        }
    }

    /// A chunk has ended: its signature must be the next in the chain.
    fn chunk_ended(&mut self) -> Result<(), S3Error> {
        let Some((signer, current, digest)) = &mut self.signed else { return Ok(()) };
        let done = std::mem::replace(digest, ring::digest::Context::new(&ring::digest::SHA256)).finish();
        let hex: String = done.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        match signer.verify(current, &hex) {
            true => Ok(()),
            false => Err(bad_chunk_signature()),
        }
    }

    /// A whole CRLF-ended line, if the buffer holds one.
    fn line(&mut self) -> Result<Option<String>, S3Error> {
        match self.buf.windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                let line = self.buf.split_to(i);
                self.buf.advance(2);
                String::from_utf8(line.to_vec()).map(Some).map_err(|_| malformed("a line is not UTF-8"))
            }
            None if self.buf.len() > MAX_LINE => Err(malformed("a line is too long")),
            None if self.ended => Err(malformed("the body ended inside a line")),
            None => Ok(None),
        }
    }
}

/// Decodes an `aws-chunked` body as it arrives; the trailer `slot` names is kept there;
/// with `signer`, each chunk's signature is checked.
pub(crate) fn decode<S>(
    input: S,
    slot: Option<TrailerSlot>,
    signer: Option<sigv4::ChunkSigner>,
) -> impl Stream<Item = Result<Bytes, S3Error>>
where
    S: Stream<Item = Result<Bytes, S3Error>> + Unpin,
{
    let signed = signer.map(|s| (s, String::new(), ring::digest::Context::new(&ring::digest::SHA256)));
    let decoder = Decoder { input, buf: BytesMut::new(), state: State::Header, ended: false, slot, signed };
    futures_util::stream::unfold(decoder, |mut d| async move { d.next().await.map(|item| (item, d)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn decoded(parts: &[&str]) -> Result<Vec<u8>, S3Error> {
        let input = futures_util::stream::iter(
            parts.iter().map(|p| Ok(Bytes::copy_from_slice(p.as_bytes()))).collect::<Vec<_>>(),
        );
        let mut out = Vec::new();
        let mut s = std::pin::pin!(decode(input, None, None));
        while let Some(piece) = s.next().await {
            out.extend_from_slice(&piece?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn signed_and_trailing_forms_decode_split_anywhere() {
        let signed = "5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=0\r\n\r\n";
        assert_eq!(decoded(&[signed]).await.unwrap(), b"hello world");
        let trailing = "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        for cut in 1..trailing.len() {
            let (a, b) = trailing.split_at(cut);
            assert_eq!(decoded(&[a, b]).await.unwrap(), b"hello world", "cut at {cut}");
        }
    }

    /// AWS's documented signed upload: 64 KiB and 1 KiB of `a`, then the empty chunk.
    #[tokio::test]
    async fn signed_chunks_are_checked_as_they_end() {
        let sig = sigv4::Signature {
            carrier: sigv4::Carrier::Header,
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            date: "20130524".into(),
            region: "us-east-1".into(),
            service: "s3".into(),
            signed_headers: Vec::new(),
            signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9".into(),
            amz_date: "20130524T000000Z".into(),
            expires: None,
            security_token: None,
        };
        let secret =
            sigv4::Secret { secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(), session_token: None };
        let signer = sigv4::ChunkSigner::new(&sig, &secret, &sigv4::SigningKeys::default());
        let body = |first: u8| {
            let mut b =
                b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n".to_vec();
            b.push(first);
            b.extend(std::iter::repeat_n(b'a', 65535));
            b.extend_from_slice(
                b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n",
            );
            b.extend(std::iter::repeat_n(b'a', 1024));
            b.extend_from_slice(
                b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n",
            );
            b
        };
        let run = |bytes: Vec<u8>| {
            let signer = signer.clone();
            async move {
                let input = futures_util::stream::iter(vec![Ok(Bytes::from(bytes))]);
                let mut s = std::pin::pin!(decode(input, None, Some(signer)));
                let mut n = 0;
                while let Some(piece) = s.next().await {
                    n += piece?.len();
                }
                Ok::<usize, S3Error>(n)
            }
        };
        assert_eq!(run(body(b'a')).await.unwrap(), 65536 + 1024);
        assert_eq!(run(body(b'b')).await.unwrap_err().code, "SignatureDoesNotMatch");
        let unsigned = b"5\r\nhello\r\n0\r\n\r\n".to_vec();
        assert_eq!(run(unsigned).await.unwrap_err().code, "SignatureDoesNotMatch");
    }

    #[tokio::test]
    async fn a_trailer_asked_for_is_kept() {
        let slot = std::sync::Arc::new(model::sync::Mutex::new(None));
        let body = "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let input = futures_util::stream::iter(vec![Ok(Bytes::from_static(body.as_bytes()))]);
        let mut s = std::pin::pin!(decode(input, Some(("x-amz-checksum-crc32".into(), slot.clone())), None));
        while let Some(piece) = s.next().await {
            piece.unwrap();
        }
        assert_eq!(slot.lock().as_deref(), Some("DUoRhQ=="));
    }

    #[test]
    fn the_fuzz_entry_survives_odd_bodies_cut_anywhere() {
        let bodies: [&[u8]; 5] = [
            b"5\r\nhello\r\n0\r\n\r\n",
            b"ffffffffffffffffff\r\n",
            b"3;chunk-signature=\xff\r\nabc\r\n0\r\nx-amz-checksum-crc32:\r\n\r\n",
            b"\r\n\r\n\r\n",
            b"",
        ];
        for body in bodies {
            for cut in 0..=body.len() {
                crate::fuzz::aws_chunked(body, cut);
            }
        }
    }

    #[tokio::test]
    async fn truncated_or_malformed_bodies_are_refused() {
        assert!(decoded(&["5\r\nhel"]).await.is_err());
        assert!(decoded(&["zz\r\nhello\r\n0\r\n\r\n"]).await.is_err());
        assert!(decoded(&["5\r\nhelloXX0\r\n\r\n"]).await.is_err());
        assert!(decoded(&[&"1".repeat(5000)]).await.is_err());
    }
}
