//! `aws-chunked`, the body encoding S3's clients stream uploads in: chunks of
//! `<hex size>[;chunk-signature=<sig>]\r\n<bytes>\r\n`, a last chunk of size 0, then
//! trailing headers (`x-amz-checksum-crc32:…`) and an empty line. Decoded as it arrives,
//! with every line bounded.

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
                let size = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size, 16).map_err(|_| malformed("a chunk size is not hex"))?;
                self.state = if size == 0 { State::Trailers(0) } else { State::Data(size) };
                Ok(Step::Moved)
            }
            State::Data(left) => {
                if self.buf.is_empty() {
                    return Ok(Step::Wait);
                }
                let n = left.min(self.buf.len());
                let data = self.buf.split_to(n).freeze();
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

/// Decodes an `aws-chunked` body as it arrives; the trailer `slot` names is kept there.
pub(crate) fn decode<S>(input: S, slot: Option<TrailerSlot>) -> impl Stream<Item = Result<Bytes, S3Error>>
where
    S: Stream<Item = Result<Bytes, S3Error>> + Unpin,
{
    let decoder = Decoder { input, buf: BytesMut::new(), state: State::Header, ended: false, slot };
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
        let mut s = std::pin::pin!(decode(input, None));
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

    #[tokio::test]
    async fn a_trailer_asked_for_is_kept() {
        let slot = std::sync::Arc::new(model::sync::Mutex::new(None));
        let body = "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let input = futures_util::stream::iter(vec![Ok(Bytes::from_static(body.as_bytes()))]);
        let mut s = std::pin::pin!(decode(input, Some(("x-amz-checksum-crc32".into(), slot.clone()))));
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
