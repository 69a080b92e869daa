//! An environment's log: its stdout and stderr, plus Lambda's own `START`, `END` and
//! `REPORT` lines, gathered per invocation.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use tokio::net::unix::pipe;
use tokio::sync::{mpsc, oneshot};

/// How much of one invocation's log is kept in memory (the tail is cut from it).
const KEEP_BYTES: usize = 64 * 1024;

/// Reads an environment's output pipe in the background.
pub(crate) struct LogCapture {
    buf: Arc<Mutex<Vec<u8>>>,
    flush: mpsc::Sender<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

enum Drained {
    More,
    Eof,
}

fn append(buf: &Mutex<Vec<u8>>, bytes: &[u8]) {
    let mut b = buf.lock().unwrap_or_else(|p| p.into_inner());
    b.extend_from_slice(bytes);
    if b.len() > 2 * KEEP_BYTES {
        let cut = b.len() - KEEP_BYTES;
        b.drain(..cut);
    }
}

/// Reads until the pipe is empty. This always asks the kernel (never a cached
/// readiness flag), so a flush sees every byte written before it.
fn drain(rx: &pipe::Receiver, buf: &Mutex<Vec<u8>>) -> Drained {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match nix::unistd::read(rx.as_raw_fd(), &mut chunk) {
            Ok(0) => return Drained::Eof,
            Ok(n) => append(buf, &chunk[..n]),
            Err(nix::errno::Errno::EAGAIN) => return Drained::More,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return Drained::Eof,
        }
    }
}

impl LogCapture {
    /// Starts reading `reader`, the read end of the environment's output pipe.
    pub(crate) fn start(reader: OwnedFd) -> std::io::Result<Self> {
        let rx = pipe::Receiver::from_owned_fd(reader)?;
        let buf = Arc::new(Mutex::new(Vec::new()));
        let (flush, mut flush_rx) = mpsc::channel::<oneshot::Sender<()>>(4);
        let b = buf.clone();
        let task = tokio::spawn(async move {
            let mut eof = false;
            loop {
                tokio::select! {
                    biased;
                    ack = flush_rx.recv() => {
                        let Some(ack) = ack else { break };
                        if !eof {
                            eof = matches!(drain(&rx, &b), Drained::Eof);
                        }
                        let _ = ack.send(());
                    }
                    ready = rx.readable(), if !eof => match ready {
                        // `try_io` clears tokio's readiness flag once the pipe is empty.
                        Ok(()) => match rx.try_io(|| match drain(&rx, &b) {
                            Drained::More => Err(std::io::ErrorKind::WouldBlock.into()),
                            Drained::Eof => Ok(()),
                        }) {
                            Ok(()) => eof = true,
                            Err(_) => eof = false,
                        },
                        Err(_) => eof = true,
                    },
                }
            }
        });
        Ok(LogCapture { buf, flush, task })
    }

    /// Appends one of Lambda's own lines.
    pub(crate) fn line(&self, line: &str) {
        let mut b = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        b.extend_from_slice(line.as_bytes());
        b.push(b'\n');
    }

    /// Waits until everything written to the pipe so far is in the buffer. The runtime
    /// writes its output before it posts its answer, so after a flush the invocation's
    /// output is complete.
    pub(crate) async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.flush.send(tx).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Takes the log gathered since the last call.
    pub(crate) fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.buf.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The last `n` bytes of `log`, starting at a line boundary when one is near.
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
        let cap = LogCapture::start(reader.into()).unwrap();
        cap.line("START");
        for i in 0..1000 {
            writeln!(writer, "line {i}").unwrap();
        }
        cap.flush().await;
        cap.line("END");
        let log = String::from_utf8(cap.take()).unwrap();
        assert!(log.starts_with("START\nline 0\n"), "{}", &log[..40]);
        assert!(log.ends_with("line 999\nEND\n"));
        assert!(cap.take().is_empty());
        drop(writer);
        cap.flush().await;
    }

    #[test]
    fn tail_keeps_the_end() {
        assert_eq!(tail(b"abcdef", 3), b"def");
        assert_eq!(tail(b"ab", 3), b"ab");
    }
}
