//! Messages: SendMessage (and its batch, and the sends other services make), receives
//! with long polling, FIFO group ordering and redrive, deletes and visibility changes,
//! with the checks and receipt handles they need.

use super::*;

fn receipt_for(queue_key: &str, message_id: &str) -> String {
    use base64::Engine;
    let token = uuid::Uuid::new_v4().simple().to_string();
    base64::engine::general_purpose::STANDARD.encode(format!("{queue_key} {message_id} {token}"))
}

/// A FIFO message's `SequenceNumber`: twenty digits, as AWS's, increasing with the
/// store's order.
fn sequence_number(seq: i64) -> String {
    // Spread out, so that no run of zeros reads like an account id.
    (10_000_000_000_000_000_000u128 + seq.max(0) as u128 * 1_099_511_627_776).to_string()
}

/// A FIFO queue hands out a group's messages together, each group's in order. Groups
/// take turns as AWS's do: those never received first, then those received longest ago;
/// among equals, the group of the oldest message.
fn group_together(messages: &mut [StoredMessage]) {
    let mut rank: HashMap<Option<String>, (i64, usize)> = HashMap::new();
    for (i, m) in messages.iter().enumerate() {
        let r = rank.entry(m.group_id.clone()).or_insert((m.first_receive_ms, i));
        r.0 = r.0.max(m.first_receive_ms);
    }
    messages.sort_by_key(|m| rank.get(&m.group_id).copied().unwrap_or((i64::MAX, usize::MAX)));
}

/// The message id a well-formed receipt handle was issued for (`None` for a malformed
/// one).
fn receipt_message_id(handle: &str) -> Option<String> {
    use base64::Engine;
    let text = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(handle).ok()?).ok()?;
    let mut parts = text.split(' ');
    let id = parts.nth(1)?;
    (parts.count() == 1).then(|| id.to_owned())
}

fn attributes_json(attrs: &BTreeMap<String, AttributeValue>) -> String {
    use base64::Engine;
    let map: serde_json::Map<String, serde_json::Value> = attrs
        .iter()
        .map(|(k, v)| {
            let value = serde_json::json!({
                "t": v.data_type,
                "s": v.string,
                "b": v.binary.as_ref().map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
            });
            (k.clone(), value)
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn parse_attributes(text: &str) -> BTreeMap<String, AttributeValue> {
    use base64::Engine;
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    map.into_iter()
        .map(|(k, v)| {
            let value = AttributeValue {
                data_type: v["t"].as_str().unwrap_or("String").to_owned(),
                string: v["s"].as_str().map(str::to_owned),
                binary: v["b"].as_str().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()),
            };
            (k, value)
        })
        .collect()
}

/// What SQS says of a character XML cannot carry.
const INVALID_CHARACTERS: &str = "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF";

/// A character a message or a string attribute may carry (XML's).
fn valid_char(c: char) -> bool {
    let n = c as u32;
    n == 0x9 || n == 0xA || n == 0xD || (0x20..=0xD7FF).contains(&n) || (0xE000..=0xFFFD).contains(&n) || n >= 0x10000
}

fn check_message_attributes(attrs: &BTreeMap<String, AttributeValue>) -> Result<usize, SqsError> {
    if attrs.len() > 10 {
        return Err(SqsError::invalid_parameter(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
            attrs.len()
        )));
    }
    let mut size = 0;
    for (name, v) in attrs {
        let name_ok = !name.is_empty()
            && name.len() <= 256
            && name.chars().all(|c| c.is_alphanumeric() || "_-.".contains(c))
            && !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
            && !name.to_ascii_lowercase().starts_with("aws.")
            && !name.to_ascii_lowercase().starts_with("amazon.");
        if !name_ok {
            return Err(SqsError::invalid_parameter(format!("Message (user) attribute name '{name}' is invalid.")));
        }
        let kind = v.data_type.split('.').next().unwrap_or("");
        if !matches!(kind, "String" | "Number" | "Binary") {
            return Err(SqsError::invalid_parameter(format!(
                "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )));
        }
        let has_value = if v.is_binary() {
            v.binary.as_ref().is_some_and(|b| !b.is_empty())
        } else {
            v.string.as_ref().is_some_and(|s| !s.is_empty())
        };
        if !has_value {
            return Err(SqsError::invalid_parameter(format!(
                "Message (user) attribute '{name}' must contain a non-empty value of type '{kind}'."
            )));
        }
        if v.string.as_deref().is_some_and(|s| !s.chars().all(valid_char)) {
            return Err(SqsError::invalid_parameter(INVALID_CHARACTERS));
        }
        if kind == "Number" && v.string.as_deref().is_some_and(|s| s.trim().parse::<f64>().is_err()) {
            return Err(SqsError::invalid_parameter(format!(
                "Can't cast the value of message (user) attribute '{name}' to a number."
            )));
        }
        size += name.len()
            + v.data_type.len()
            + v.string.as_ref().map_or(0, String::len)
            + v.binary.as_ref().map_or(0, Vec::len);
    }
    Ok(size)
}

/// Whether a message attribute name matches a `MessageAttributeNames` entry (`All`,
/// `.*`, a name, or a `prefix.*`).
fn attribute_wanted(name: &str, wanted: &[String]) -> bool {
    wanted.iter().any(|w| {
        w == "All" || w == "*" || w == ".*" || w == name || w.strip_suffix(".*").is_some_and(|p| name.starts_with(p))
    })
}

fn message_out(m: StoredMessage, r: Received, input: &ReceiveInput, fifo: bool) -> Message {
    let system: BTreeMap<String, String> = serde_json::from_str(&m.system).unwrap_or_default();
    let mut all = BTreeMap::new();
    all.insert("SenderId".to_owned(), system.get("SenderId").cloned().unwrap_or_default());
    all.insert("SentTimestamp".to_owned(), m.sent_ms.to_string());
    all.insert("ApproximateReceiveCount".to_owned(), r.receive_count.to_string());
    all.insert("ApproximateFirstReceiveTimestamp".to_owned(), r.first_receive_ms.to_string());
    for name in ["AWSTraceHeader", "DeadLetterQueueSourceArn"] {
        if let Some(value) = system.get(name) {
            all.insert(name.to_owned(), value.clone());
        }
    }
    // Standard queues keep a message's group too (fair queues), and show it.
    if let Some(g) = &m.group_id {
        all.insert("MessageGroupId".to_owned(), g.clone());
    }
    if fifo {
        all.insert("SequenceNumber".to_owned(), sequence_number(m.seq));
        if let Some(d) = &m.dedup_id {
            all.insert("MessageDeduplicationId".to_owned(), d.clone());
        }
    }
    let everything = input.attribute_names.iter().any(|n| n == "All");
    let attributes = all.into_iter().filter(|(k, _)| everything || input.attribute_names.contains(k)).collect();
    let message_attributes: BTreeMap<String, AttributeValue> = parse_attributes(&m.attributes)
        .into_iter()
        .filter(|(k, _)| attribute_wanted(k, &input.message_attribute_names))
        .collect();
    Message {
        id: m.id,
        receipt: r.receipt,
        md5_body: digest::body(&m.body),
        body: m.body,
        attributes,
        md5_attributes: digest::attributes(&message_attributes),
        message_attributes,
    }
}

impl SqsService {
    /// SendMessage.
    pub fn send(&self, caller: &Caller, queue: &QueueName, input: SendInput) -> Result<Sent, SqsError> {
        let q = self.named(caller, queue, "sqs:SendMessage")?;
        let mut sent = self.send_all(caller, &q, vec![input])?;
        sent.pop().expect("one message, one result")
    }

    /// SendMessageBatch: per entry, its result or its error.
    pub fn send_batch(
        &self,
        caller: &Caller,
        queue: &QueueName,
        entries: Vec<SendInput>,
    ) -> Result<Vec<Result<Sent, SqsError>>, SqsError> {
        let q = self.named(caller, queue, "sqs:SendMessage")?;
        let total: usize = entries
            .iter()
            .map(|e| {
                e.body.len()
                    + e.attributes
                        .iter()
                        .map(|(k, v)| {
                            k.len()
                                + v.data_type.len()
                                + v.string.as_ref().map_or(0, String::len)
                                + v.binary.as_ref().map_or(0, Vec::len)
                        })
                        .sum::<usize>()
            })
            .sum();
        if total as i64 > attributes::MESSAGE_MAX_BYTES {
            return Err(SqsError::batch(
                "BatchRequestTooLong",
                format!(
                    "Batch requests cannot be longer than {} bytes. You have sent {total} bytes.",
                    attributes::MESSAGE_MAX_BYTES
                ),
            ));
        }
        // A FIFO queue refuses the whole batch for an entry without its group or
        // deduplication id.
        let settings = q.settings();
        if settings.fifo {
            if entries.iter().any(|e| e.group_id.is_none()) {
                return Err(SqsError::invalid_parameter("The request must contain the parameter MessageGroupId."));
            }
            if !settings.content_dedup && entries.iter().any(|e| e.dedup_id.is_none()) {
                return Err(SqsError::invalid_parameter(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
        }
        // A batch entry too large is worded as one that "cannot be validated".
        let mut results = self.send_all(caller, &q, entries)?;
        for e in results.iter_mut().filter_map(|r| r.as_mut().err()) {
            if let Some(reason) = e.message.strip_prefix("One or more parameters are invalid. Reason: Message must be")
            {
                e.message = format!("One or more parameters cannot be validated. Reason: Message must be{reason}");
            }
        }
        Ok(results)
    }

    /// Sends a message, on `who`'s behalf, to the queue an ARN names (Lambda destinations
    /// and dead-letter queues, SNS deliveries) if the queue's policy lets `who` send;
    /// `Ok(false)` if there is no such queue.
    pub fn send_to_arn(&self, arn: &str, who: &Requester<'_>, input: SendInput) -> Result<bool, SqsError> {
        match self.send_many_to_arn(arn, who, vec![input])? {
            None => Ok(false),
            Some(mut sent) => sent.pop().expect("one message, one result").map(|_| true),
        }
    }

    /// Sends messages, on `who`'s behalf, to the queue an ARN names, in one write: each
    /// message's result (its own refusal, or sent); `Ok(None)` if there is no such queue.
    pub fn send_many_to_arn(
        &self,
        arn: &str,
        who: &Requester<'_>,
        inputs: Vec<SendInput>,
    ) -> Result<Option<Vec<Result<Sent, SqsError>>>, SqsError> {
        let Some(q) = self.by_arn(arn) else { return Ok(None) };
        if !self.permits(&q, who, "sqs:SendMessage") {
            return Err(SqsError {
                status: 403,
                ..SqsError::new("AccessDenied", "AccessDenied", format!("Access to the resource {arn} is denied."))
            });
        }
        let record = q.record.lock().clone();
        let caller = Caller { account: record.account, region: record.region };
        self.send_all(&caller, &q, inputs).map(Some)
    }

    fn check_send(&self, q: &Queue, input: &SendInput, settings: &Settings) -> Result<(), SqsError> {
        if input.body.is_empty() {
            return Err(SqsError::missing("MessageBody"));
        }
        if !input.body.chars().all(valid_char) {
            return Err(SqsError::new("InvalidMessageContents", "InvalidMessageContents", INVALID_CHARACTERS));
        }
        let size = input.body.len() + check_message_attributes(&input.attributes)?;
        if size as i64 > settings.max_size {
            return Err(SqsError::invalid_parameter(format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
                settings.max_size
            )));
        }
        if let Some(d) = input.delay_s {
            if !(0..=900).contains(&d) {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
                )));
            }
            // A FIFO queue delays whole queues only: a message's own delay may be 0.
            if settings.fifo && d != 0 {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {d} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type."
                )));
            }
        }
        let _ = q;
        for (name, value) in [("MessageGroupId", &input.group_id), ("MessageDeduplicationId", &input.dedup_id)] {
            if let Some(v) = value.as_deref() {
                if !(1..=128).contains(&v.len()) || !v.chars().all(|c| c.is_ascii_graphic()) {
                    return Err(SqsError::invalid_parameter(format!(
                        "Value {v} for parameter {name} is invalid. Reason: {name} can only include alphanumeric and punctuation characters. 1 to 128 in length."
                    )));
                }
            }
        }
        if settings.fifo {
            if input.group_id.is_none() {
                return Err(SqsError::missing("MessageGroupId"));
            }
            if input.dedup_id.is_none() && !settings.content_dedup {
                return Err(SqsError::invalid_parameter(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
        } else if input.dedup_id.is_some() {
            return Err(SqsError::invalid_parameter(
                "The request include parameter that is not valid for this queue type",
            ));
        }
        Ok(())
    }

    fn send_all(
        &self,
        caller: &Caller,
        q: &Queue,
        inputs: Vec<SendInput>,
    ) -> Result<Vec<Result<Sent, SqsError>>, SqsError> {
        let settings = q.settings();
        let key = q.key();
        let now = self.now();
        let mut results: Vec<Option<Result<Sent, SqsError>>> = Vec::with_capacity(inputs.len());
        let mut fresh: Vec<(usize, StoredMessage, Sent)> = Vec::new();
        for input in inputs {
            if let Err(e) = self.check_send(q, &input, &settings) {
                results.push(Some(Err(e)));
                continue;
            }
            let md5_body = digest::body(&input.body);
            let dedup_id = match (&input.dedup_id, settings.fifo) {
                (Some(d), true) => Some(d.clone()),
                (None, true) => {
                    use sha2::Digest;
                    Some(sha2::Sha256::digest(input.body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect())
                }
                _ => None,
            };
            let id = uuid::Uuid::new_v4().to_string();
            let mut system = BTreeMap::new();
            system.insert("SenderId".to_owned(), caller.account.clone());
            for (k, v) in &input.system {
                if let Some(s) = &v.string {
                    system.insert(k.clone(), s.clone());
                }
            }
            // A FIFO queue's delay is the queue's, whatever a message says (it may say 0).
            let delay = if settings.fifo { settings.delay_s } else { input.delay_s.unwrap_or(settings.delay_s) };
            let stored = StoredMessage {
                seq: 0,
                id: id.clone(),
                body: input.body.clone(),
                attributes: attributes_json(&input.attributes),
                system: serde_json::to_string(&system).unwrap_or_default(),
                sent_ms: now,
                visible_ms: now + delay * 1000,
                receive_count: 0,
                first_receive_ms: 0,
                receipt: None,
                group_id: input.group_id.clone(),
                dedup_id: dedup_id.clone(),
            };
            let sent = Sent {
                id,
                md5_body,
                md5_attributes: digest::attributes(&input.attributes),
                md5_system: digest::attributes(&input.system),
                sequence: None,
            };
            let index = results.len();
            results.push(None);
            fresh.push((index, stored, sent));
        }
        if !fresh.is_empty() {
            let messages: Vec<StoredMessage> = fresh.iter().map(|(_, m, _)| m.clone()).collect();
            // The deduplication check and record are the store's, in the transaction that
            // stores the messages: concurrent retries and crashes cannot let a duplicate in.
            let window = settings.fifo.then_some(DedupWindow {
                now_ms: now,
                expires_ms: now + DEDUP_WINDOW_MS,
                per_group: q.attributes().get("DeduplicationScope").is_some_and(|s| s == "messageGroup"),
            });
            let added = self.inner.store.add_messages(&key, &messages, window)?;
            for ((index, _, mut sent), added) in fresh.into_iter().zip(added) {
                let seq = match added {
                    Added::New(seq) => seq,
                    Added::Duplicate(id, seq) => {
                        sent.id = id;
                        seq
                    }
                };
                if settings.fifo {
                    sent.sequence = Some(sequence_number(seq));
                }
                results[index] = Some(Ok(sent));
            }
            q.arrivals.notify_waiters();
        }
        Ok(results.into_iter().map(|r| r.expect("every entry answered")).collect())
    }

    /// ReceiveMessage, long-polling up to the wait time when nothing is there.
    pub async fn receive(
        &self,
        caller: &Caller,
        queue: &QueueName,
        input: ReceiveInput,
    ) -> Result<Vec<Message>, SqsError> {
        let q = self.named(caller, queue, "sqs:ReceiveMessage")?;
        let max = input.max.unwrap_or(1);
        if !(1..=10).contains(&max) {
            return Err(SqsError::invalid_parameter(format!(
                "Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
            )));
        }
        if let Some(w) = input.wait_s {
            if !(0..=20).contains(&w) {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {w} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
                )));
            }
        }
        if let Some(v) = input.visibility_s {
            if !(0..=43_200).contains(&v) {
                return Err(SqsError::invalid_parameter(format!(
                    "Value {v} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
                )));
            }
        }
        let wait = Duration::from_secs(input.wait_s.unwrap_or(q.settings().wait_s) as u64);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Register for arrivals before looking, so none is missed in between.
            let arrived = q.arrivals.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            let got = self.take(caller, &q, max as usize, &input).await?;
            if !got.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(got);
            }
            // A delayed or in-flight message may become visible before anything arrives.
            let next = self.next_visible(&q)?.map_or(deadline, |at| at.min(deadline));
            tokio::select! {
                _ = &mut arrived => {}
                _ = tokio::time::sleep_until(next) => {}
            }
        }
    }

    /// When the next delayed or in-flight message of the queue becomes visible.
    fn next_visible(&self, q: &Queue) -> Result<Option<tokio::time::Instant>, SqsError> {
        let now = self.now();
        let at = self.inner.store.next_visible(&q.key(), now)?;
        Ok(at.map(|at| tokio::time::Instant::now() + Duration::from_millis((at - now).max(0) as u64)))
    }

    async fn take(
        &self,
        caller: &Caller,
        q: &Queue,
        max: usize,
        input: &ReceiveInput,
    ) -> Result<Vec<Message>, SqsError> {
        let _busy = q.busy.lock().await;
        let settings = q.settings();
        let key = q.key();
        let now = self.now();
        let expire = {
            let mut last = q.last_expiry_ms.lock();
            let due = now - *last >= EXPIRY_EVERY_MS;
            if due {
                *last = now;
            }
            due
        };
        if expire {
            self.inner.store.expire(&key, now - settings.retention_s * 1000)?;
        }
        let mut candidates = self.inner.store.visible_messages(&key, now, max * 4 + 10, settings.fifo)?;
        if settings.fifo {
            group_together(&mut candidates);
        }
        // A FIFO group waits while an older message of it is in flight; a message that
        // became visible again ahead of the others in flight is handed out.
        let blocked: HashMap<String, i64> = if settings.fifo {
            self.inner.store.groups_in_flight(&key, now)?.into_iter().collect()
        } else {
            HashMap::new()
        };
        let dead_letter =
            settings.redrive.as_ref().and_then(|r| self.by_arn(&r.dead_letter_arn).map(|d| (r.max_receive_count, d)));
        let mut to_dlq = Vec::new();
        let mut chosen = Vec::new();
        for m in candidates {
            if chosen.len() >= max {
                break;
            }
            if let Some((limit, _)) = &dead_letter {
                if m.receive_count >= *limit {
                    to_dlq.push(m.seq);
                    continue;
                }
            }
            if m.group_id.as_ref().and_then(|g| blocked.get(g)).is_some_and(|oldest| *oldest < m.seq) {
                continue;
            }
            chosen.push(m);
        }
        if let Some((_, dlq)) = &dead_letter {
            if !to_dlq.is_empty() {
                let source = {
                    let record = q.record.lock();
                    queue_arn(&record.region, &record.account, &record.name)
                };
                self.inner.store.move_messages(&to_dlq, &dlq.key(), now, &source)?;
                dlq.arrivals.notify_waiters();
            }
        }
        let visibility = input.visibility_s.unwrap_or(settings.visibility_s);
        let received: Vec<Received> = chosen
            .iter()
            .map(|m| Received {
                seq: m.seq,
                receipt: receipt_for(&key, &m.id),
                visible_ms: now + visibility * 1000,
                receive_count: m.receive_count + 1,
                first_receive_ms: if m.first_receive_ms == 0 { now } else { m.first_receive_ms },
            })
            .collect();
        self.inner.store.mark_received(&received)?;
        let _ = caller;
        Ok(chosen.into_iter().zip(received).map(|(m, r)| message_out(m, r, input, settings.fifo)).collect())
    }

    /// DeleteMessage. A receipt handle of a message already deleted is accepted, as on AWS.
    pub fn delete(&self, caller: &Caller, queue: &QueueName, receipt: &str) -> Result<(), SqsError> {
        let q = self.named(caller, queue, "sqs:DeleteMessage")?;
        self.delete_in(&q, receipt)
    }

    fn delete_in(&self, q: &Queue, receipt: &str) -> Result<(), SqsError> {
        self.delete_all(q, std::slice::from_ref(&receipt)).pop().expect("one receipt, one answer")
    }

    /// Deletes what the receipts name in one transaction; per receipt, ok or its error.
    fn delete_all(&self, q: &Queue, receipts: &[impl AsRef<str>]) -> Vec<Result<(), SqsError>> {
        let mut results: Vec<Result<(), SqsError>> = Vec::with_capacity(receipts.len());
        let mut named = Vec::with_capacity(receipts.len());
        for receipt in receipts {
            let receipt = receipt.as_ref();
            match receipt_message_id(receipt) {
                Some(id) => {
                    named.push((results.len(), id, receipt));
                    results.push(Ok(()));
                }
                None => results.push(Err(SqsError::receipt_invalid(receipt))),
            }
        }
        if named.is_empty() {
            return results;
        }
        let fifo = q.settings().fifo;
        let pairs: Vec<(&str, &str)> = named.iter().map(|(_, id, r)| (id.as_str(), *r)).collect();
        // A FIFO queue's receipt dies with its visibility timeout: the group may be handed
        // out again.
        let outcomes = match self.inner.store.delete_received(&q.key(), &pairs, fifo.then(|| self.now())) {
            Ok(outcomes) => outcomes,
            Err(e) => {
                let e = SqsError::from(e);
                for (index, _, _) in &named {
                    results[*index] = Err(e.clone());
                }
                return results;
            }
        };
        let mut freed = false;
        for ((index, _, receipt), outcome) in named.iter().zip(outcomes) {
            // A receipt handle of a message already deleted is accepted, as on AWS.
            results[*index] = match outcome {
                Deleted::Deleted => {
                    freed = true;
                    Ok(())
                }
                Deleted::Unknown => Ok(()),
                Deleted::Expired => Err(SqsError::invalid_parameter(format!(
                    "Value {receipt} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
                ))),
            };
        }
        // Deleting a FIFO queue's in-flight message frees its group: a long poll waiting
        // on the group's next message gets it now.
        if fifo && freed {
            q.arrivals.notify_waiters();
        }
        results
    }

    /// DeleteMessageBatch: per entry, ok or its error.
    pub fn delete_batch(
        &self,
        caller: &Caller,
        queue: &QueueName,
        receipts: &[String],
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let q = self.named(caller, queue, "sqs:DeleteMessage")?;
        Ok(self.delete_all(&q, receipts))
    }

    /// ChangeMessageVisibility.
    pub fn change_visibility(
        &self,
        caller: &Caller,
        queue: &QueueName,
        receipt: &str,
        timeout_s: i64,
    ) -> Result<(), SqsError> {
        let q = self.named(caller, queue, "sqs:ChangeMessageVisibility")?;
        self.change_visibility_in(&q, receipt, timeout_s)
    }

    fn change_visibility_in(&self, q: &Queue, receipt: &str, timeout_s: i64) -> Result<(), SqsError> {
        if !(0..=43_200).contains(&timeout_s) {
            return Err(SqsError::invalid_parameter(format!(
                "Value {timeout_s} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
            )));
        }
        let id = receipt_message_id(receipt).ok_or_else(|| SqsError::receipt_invalid(receipt))?;
        let now = self.now();
        // An earlier receipt of a message received again still names it, and a message
        // whose visibility timeout has run out may be hidden again, as on AWS.
        let m = self.inner.store.message_by_id(&q.key(), &id)?;
        match m {
            Some(m) if m.receipt.is_some() => {
                self.inner.store.set_visible(&[(m.seq, now + timeout_s * 1000)])?;
                if timeout_s == 0 {
                    q.arrivals.notify_waiters();
                }
                Ok(())
            }
            _ => Err(SqsError::invalid_parameter(format!(
                "Value {receipt} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
            ))),
        }
    }

    /// ChangeMessageVisibilityBatch: per entry, ok or its error.
    pub fn change_visibility_batch(
        &self,
        caller: &Caller,
        queue: &QueueName,
        entries: &[(String, i64)],
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        let q = self.named(caller, queue, "sqs:ChangeMessageVisibility")?;
        Ok(entries.iter().map(|(r, t)| self.change_visibility_in(&q, r, *t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_attribute_names_match_exactly_or_by_prefix() {
        assert!(attribute_wanted("trace.id", &["trace.*".to_owned()]));
        assert!(!attribute_wanted("other", &["trace.*".to_owned()]));
        assert!(attribute_wanted("any", &["All".to_owned()]));
    }
}
