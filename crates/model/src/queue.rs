//! How a queue is named between services: its account and name. A queue URL
//! (`http://host/<account>/<name>`) is read into one at the edge; services take this.

/// A queue, as its URL's last two parts name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueRef {
    /// The owning account (12 digits).
    pub account: String,
    /// The queue's name (`….fifo` for a FIFO queue).
    pub name: String,
}

impl QueueRef {
    /// A queue of `account` called `name`.
    pub fn new(account: impl Into<String>, name: impl Into<String>) -> QueueRef {
        QueueRef { account: account.into(), name: name.into() }
    }

    /// Reads a queue URL (`http://host/<account>/<name>`, any host and scheme, or the
    /// path alone); `None` when it names no account and queue.
    pub fn from_url(url: &str) -> Option<QueueRef> {
        let path = url.split_once("://").map_or(url, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
        let mut parts = path.trim_end_matches('/').rsplit('/');
        let name = parts.next()?;
        let account = parts.next()?;
        (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) && !name.is_empty())
            .then(|| QueueRef::new(account, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_any_host_name_their_queue() {
        assert_eq!(
            QueueRef::from_url("http://localhost:4566/000000000000/jobs"),
            Some(QueueRef::new("000000000000", "jobs"))
        );
        let fifo = QueueRef::from_url("http://sqs.us-east-1.localhost/000000000000/j.fifo");
        assert_eq!(fifo.map(|q| q.name).as_deref(), Some("j.fifo"));
        assert_eq!(QueueRef::from_url("jobs"), None);
        assert_eq!(QueueRef::from_url("http://h/12345/jobs"), None);
    }
}
