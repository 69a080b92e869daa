//! An environment's log: its stdout and stderr, plus Lambda's own `START`, `END` and
//! `REPORT` lines, gathered per invocation (for `LogType: Tail`) and handed, line by line
//! as they are printed, to the [`LogSink`] (CloudWatch Logs).

use model::sync::Mutex;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use tokio::net::unix::pipe;

use crate::{LogSink, LogStreamId};

/// How much of one invocation's log is kept in memory (the tail is cut from it).
const KEEP_BYTES: usize = 64 * 1024;
/// The most a flush reads: what the pipe can hold, with room to spare. Only a process
/// still printing after its runtime answered could offer more; the background reader
/// takes that, as the sink has room.
const FLUSH_BYTES: usize = 4 * 1024 * 1024;
/// The longest event a line becomes; a longer line is split, as Lambda splits them.
const MAX_EVENT_BYTES: usize = 256 * 1024;

/// Where complete lines go, and the start of a line not yet ended.
struct Forward {
    sink: Arc<dyn LogSink>,
    stream: LogStreamId,
    partial: Vec<u8>,
}

impl Forward {
    /// Sends the complete lines of `partial` + `fresh` (and, when `all`, the rest).
    fn push(&mut self, fresh: &[u8], all: bool) {
        self.partial.extend_from_slice(fresh);
        let now = model::clock::now_ms();
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(n) = self.partial[start..].iter().position(|&b| b == b'\n') {
            let end = start + n + 1;
            for piece in self.partial[start..end].chunks(MAX_EVENT_BYTES) {
                lines.push((now, String::from_utf8_lossy(piece).into_owned()));
            }
            start = end;
        }
        self.partial.drain(..start);
        if all || self.partial.len() >= MAX_EVENT_BYTES {
            for piece in self.partial.chunks(MAX_EVENT_BYTES) {
                lines.push((now, String::from_utf8_lossy(piece).into_owned()));
            }
            self.partial.clear();
        }
        if !lines.is_empty() {
            self.sink.write(&self.stream, lines);
        }
    }
}

struct Shared {
    rx: pipe::Receiver,
    /// The invocation's log so far. Reads from the pipe happen under this lock, so bytes
    /// land in the order they were written whoever reads them.
    buf: Mutex<Vec<u8>>,
    /// Where lines go as they are read; under its own lock, taken inside `buf`'s.
    forward: Option<Mutex<Forward>>,
}

/// Reads an environment's output pipe in the background.
pub(crate) struct LogCapture {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(PartialEq)]
enum Drained {
    Empty,
    Eof,
    /// Stopped with bytes still in the pipe: the sink has no room, or the budget is spent.
    Paused,
}

impl Shared {
    /// Reads until the pipe is empty, always asking the kernel (never tokio's cached
    /// readiness), so a flush sees every byte written before it; or until `budget` bytes
    /// are read, or (when `wait_for_room`) the sink has no room.
    fn drain(&self, budget: usize, wait_for_room: bool) -> Drained {
        let mut buf = self.buf.lock();
        let mut chunk = [0u8; 16 * 1024];
        let mut read = 0;
        loop {
            let full = wait_for_room && self.forward.as_ref().is_some_and(|f| !f.lock().sink.has_room());
            if read >= budget || full {
                return Drained::Paused;
            }
            match nix::unistd::read(self.rx.as_raw_fd(), &mut chunk) {
                Ok(0) => return Drained::Eof,
                Ok(n) => {
                    read += n;
                    if let Some(f) = &self.forward {
                        f.lock().push(&chunk[..n], false);
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.len() > 2 * KEEP_BYTES {
                        let cut = buf.len() - KEEP_BYTES;
                        buf.drain(..cut);
                    }
                }
                Err(nix::errno::Errno::EAGAIN) => return Drained::Empty,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return Drained::Eof,
            }
        }
    }
}

impl LogCapture {
    /// Starts reading `reader`, the read end of the environment's output pipe; lines go
    /// to `destination` as they are read.
    pub(crate) fn start(
        reader: OwnedFd,
        destination: Option<(Arc<dyn LogSink>, LogStreamId)>,
    ) -> std::io::Result<Self> {
        let sink = destination.as_ref().map(|(sink, _)| sink.clone());
        let forward = destination.map(|(sink, stream)| Mutex::new(Forward { sink, stream, partial: Vec::new() }));
        let shared =
            Arc::new(Shared { rx: pipe::Receiver::from_owned_fd(reader)?, buf: Mutex::new(Vec::new()), forward });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                // While the sink has no room, the pipe is left to fill and the function's
                // writes block: backpressure, not loss.
                if let Some(sink) = &sink {
                    sink.until_room().await;
                }
                if s.rx.readable().await.is_err() {
                    break;
                }
                // `try_io` clears tokio's readiness flag once the pipe is empty (and only
                // then: a paused read leaves bytes, and the pipe readable).
                let done = s.rx.try_io(|| match s.drain(usize::MAX, true) {
                    Drained::Empty => Err(std::io::ErrorKind::WouldBlock.into()),
                    Drained::Eof => Ok(true),
                    Drained::Paused => Ok(false),
                });
                if done.unwrap_or(false) {
                    break;
                }
            }
        });
        Ok(LogCapture { shared, task })
    }

    /// Appends one of Lambda's own lines (after any unended line of output).
    pub(crate) fn line(&self, line: &str) {
        let mut b = self.shared.buf.lock();
        b.extend_from_slice(line.as_bytes());
        b.push(b'\n');
        if let Some(f) = &self.shared.forward {
            let mut f = f.lock();
            f.push(&[], true);
            f.push(format!("{line}\n").as_bytes(), false);
        }
    }

    /// Takes everything written to the pipe so far into the log. The runtime writes its
    /// output before it posts its answer, so after a flush the invocation's output is
    /// complete.
    pub(crate) fn flush(&self) {
        self.shared.drain(FLUSH_BYTES, false);
        if let Some(f) = &self.shared.forward {
            f.lock().push(&[], true);
        }
    }

    /// Takes the log gathered since the last call.
    pub(crate) fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.shared.buf.lock())
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The last `n` bytes of `log`.
pub(crate) fn tail(log: &[u8], n: usize) -> &[u8] {
    if log.len() <= n {
        return log;
    }
    &log[log.len() - n..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[tokio::test]
    async fn flush_sees_everything_written_before_it() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let cap = LogCapture::start(reader.into(), None).unwrap();
        cap.line("START");
        for i in 0..1000 {
            writeln!(writer, "line {i}").unwrap();
        }
        cap.flush();
        cap.line("END");
        let log = String::from_utf8(cap.take()).unwrap();
        assert!(log.starts_with("START\nline 0\n"), "{}", &log[..log.len().min(40)]);
        assert!(log.ends_with("line 999\nEND\n"));
        assert!(cap.take().is_empty());
        drop(writer);
        cap.flush();
    }

    /// A sink that has no room until told.
    #[derive(Debug, Default)]
    struct Gate {
        open: std::sync::atomic::AtomicBool,
        opened: tokio::sync::Notify,
        lines: Mutex<usize>,
    }

    impl LogSink for Gate {
        fn write(&self, _: &LogStreamId, lines: Vec<(i64, String)>) {
            *self.lines.lock() += lines.len();
        }
        fn has_room(&self) -> bool {
            self.open.load(std::sync::atomic::Ordering::SeqCst)
        }
        fn until_room(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
            Box::pin(async move {
                loop {
                    let opened = self.opened.notified();
                    tokio::pin!(opened);
                    opened.as_mut().enable();
                    if self.has_room() {
                        return;
                    }
                    opened.await;
                }
            })
        }
    }

    #[tokio::test]
    async fn a_full_sink_blocks_the_writer_instead_of_losing_lines() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let gate = Arc::new(Gate::default());
        let stream = LogStreamId { account: "1".into(), region: "r".into(), group: "g".into(), stream: "s".into() };
        let cap = LogCapture::start(reader.into(), Some((gate.clone(), stream))).unwrap();
        let lines = 20_000; // about 1.3 MB: far more than the pipe holds
        let (tx, rx) = std::sync::mpsc::channel();
        let printer = std::thread::spawn(move || {
            for i in 0..lines {
                writeln!(writer, "line {i:060}").unwrap();
                let _ = tx.send(i);
            }
        });
        // The printer fills the pipe and then blocks: it cannot get far while the gate is shut.
        let stalled = tokio::task::spawn_blocking(move || {
            let mut last = 0;
            while let Ok(i) = rx.recv_timeout(std::time::Duration::from_millis(500)) {
                last = i;
            }
            (last, rx)
        });
        let (last, rx) = stalled.await.unwrap();
        assert!(last < lines - 1, "the printer was not held back");
        assert_eq!(*gate.lines.lock(), 0);
        gate.open.store(true, std::sync::atomic::Ordering::SeqCst);
        gate.opened.notify_waiters();
        tokio::task::spawn_blocking(move || printer.join().unwrap()).await.unwrap();
        drop(rx);
        cap.flush();
        assert_eq!(*gate.lines.lock(), lines, "every line arrives");
    }

    #[tokio::test]
    async fn the_background_reader_keeps_the_pipe_from_filling() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let cap = LogCapture::start(reader.into(), None).unwrap();
        // Far more than a pipe holds: this blocks forever unless the log is being read.
        let writer = std::thread::spawn(move || {
            for _ in 0..64 {
                writer.write_all(&[b'x'; 16 * 1024]).unwrap();
            }
        });
        tokio::task::spawn_blocking(move || writer.join().unwrap()).await.unwrap();
        cap.flush();
        assert!(cap.take().len() >= KEEP_BYTES, "older output is dropped, the recent kept");
    }

    #[derive(Debug, Default)]
    struct Collect(Mutex<Vec<String>>);

    impl LogSink for Collect {
        fn write(&self, stream: &LogStreamId, lines: Vec<(i64, String)>) {
            assert_eq!(stream.stream, "2026/01/01/[$LATEST]abc");
            self.0.lock().extend(lines.into_iter().map(|(_, l)| l));
        }
    }

    #[tokio::test]
    async fn lines_are_forwarded_whole_and_unended_output_at_the_flush() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let sink = Arc::new(Collect::default());
        let stream = LogStreamId {
            account: "1".into(),
            region: "r".into(),
            group: "/aws/lambda/f".into(),
            stream: "2026/01/01/[$LATEST]abc".into(),
        };
        let cap = LogCapture::start(reader.into(), Some((sink.clone(), stream))).unwrap();
        cap.line("START RequestId: 1");
        write!(writer, "one\ntw").unwrap();
        cap.flush();
        write!(writer, "three").unwrap();
        cap.flush();
        cap.line("END RequestId: 1");
        let got = sink.0.lock().clone();
        assert_eq!(got, ["START RequestId: 1\n", "one\n", "tw", "three", "END RequestId: 1\n"]);
    }

    #[test]
    fn tail_keeps_the_end() {
        assert_eq!(tail(b"abcdef", 3), b"def");
        assert_eq!(tail(b"ab", 3), b"ab");
    }
}
