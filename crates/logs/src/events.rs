//! Events: PutLogEvents' acceptance rules, GetLogEvents' pages and tokens, and
//! FilterLogEvents across a group's streams in time order.

use super::*;

impl LogsService {
    /// `PutLogEvents`: stores the acceptable events (committed before it returns) and
    /// says which were rejected.
    pub fn put_events(
        &self,
        c: &Caller,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
    ) -> Result<Rejected, LogsError> {
        check_group_name(group, "logGroupName")?;
        check_stream_name(stream)?;
        if events.is_empty() || events.len() > MAX_EVENTS {
            return Err(validation(
                &format!("{} events", events.len()),
                "logEvents",
                "Member must have length between 1 and 10000",
            ));
        }
        let size: usize = events.iter().map(|(_, m)| m.len() + 26).sum();
        if size > MAX_BATCH_BYTES {
            return Err(LogsError::InvalidParameter(format!(
                "Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
            )));
        }
        if events.iter().any(|(_, m)| m.is_empty()) {
            return Err(validation(
                "",
                "logEvents.member.message",
                "Member must have length greater than or equal to 1",
            ));
        }
        if events.windows(2).any(|w| w[1].0 < w[0].0) {
            return Err(LogsError::InvalidParameter(
                "Log events in a single PutLogEvents request must be in chronological order.".into(),
            ));
        }
        if let (Some(first), Some(last)) = (events.first(), events.last()) {
            if last.0 - first.0 > DAY_MS {
                return Err(LogsError::InvalidParameter(
                    "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.".into(),
                ));
            }
        }
        let g = self.group(c, group)?;
        self.inner.store.stream(g.id, stream)?.ok_or_else(no_stream)?;
        let now = now_ms();
        let too_new = now + 2 * 3_600_000;
        let too_old = now - 14 * DAY_MS;
        let expired = g.retention_days.map(|d| now - d * DAY_MS);
        let mut rejected = Rejected::default();
        let mut kept = Vec::with_capacity(events.len());
        for (i, (ts, message)) in events.into_iter().enumerate() {
            if ts > too_new {
                rejected.too_new_start.get_or_insert(i);
            } else if expired.is_some_and(|e| ts < e) {
                rejected.expired_end = Some(i);
            } else if ts < too_old {
                rejected.too_old_end = Some(i);
            } else {
                kept.push((ts, message));
            }
        }
        let appended = [LogAppend {
            account: c.account.clone(),
            region: c.region.clone(),
            group: group.to_owned(),
            stream: stream.to_owned(),
            events: kept,
            ingestion_ms: now,
            create: false,
        }];
        self.inner.store.append(&appended)?;
        self.subscribed(&appended);
        Ok(rejected)
    }

    /// The earliest timestamp a group's retention still keeps.
    pub(crate) fn retained_from(g: &LogGroupRecord) -> i64 {
        g.retention_days.map_or(i64::MIN, |d| now_ms() - d * DAY_MS)
    }

    /// `GetLogEvents`.
    pub fn get_events(&self, c: &Caller, group: &str, stream: &str, q: GetQuery) -> Result<GetPage, LogsError> {
        let limit = limit(q.limit, MAX_EVENTS)?;
        let g = self.group(c, group)?;
        let s = self.inner.store.stream(g.id, stream)?.ok_or_else(no_stream)?;
        let cursor = match q.token.as_deref() {
            None if q.from_head => StreamCursor::After((0, 0)),
            None => StreamCursor::Before((i64::MAX, i64::MAX)),
            Some(t) => {
                let (dir, position) = t.split_once('/').ok_or_else(bad_token)?;
                let position = parse_position(position).ok_or_else(bad_token)?;
                match dir {
                    "f" => StreamCursor::After(position),
                    "b" => StreamCursor::Before(position),
                    _ => return Err(bad_token()),
                }
            }
        };
        let start = q.start_ms.unwrap_or(i64::MIN).max(Self::retained_from(&g));
        let end = q.end_ms.map_or(i64::MAX, |e| e - 1);
        let mut events = self.inner.store.stream_events(&s, start, end, cursor, limit)?;
        if matches!(cursor, StreamCursor::Before(_)) {
            events.reverse();
        }
        let token = |dir: char, (ts, seq): (i64, i64)| format!("{dir}/{}", position_text(ts, seq));
        let (forward, backward) = match (events.first(), events.last(), cursor) {
            (Some(first), Some(last), _) => {
                (token('f', (last.timestamp_ms, last.seq)), token('b', (first.timestamp_ms, first.seq)))
            }
            (_, _, StreamCursor::After((ts, seq))) => (token('f', (ts, seq)), token('b', (ts, seq + 1))),
            (_, _, StreamCursor::Before((i64::MAX, _))) => (token('f', (0, 0)), token('b', (0, 0))),
            (_, _, StreamCursor::Before((ts, seq))) => (token('f', (ts, seq - 1)), token('b', (ts, seq))),
        };
        Ok(GetPage { events: events.into_iter().map(LogEvent::from).collect(), forward, backward })
    }

    /// `FilterLogEvents`: events in time order across the group's streams that match the
    /// pattern, and a token when the limit cut the answer short.
    pub fn filter_events(
        &self,
        c: &Caller,
        group: &str,
        q: FilterQuery,
    ) -> Result<(Vec<LogEvent>, Option<String>), LogsError> {
        if q.streams.is_some() && q.prefix.is_some() {
            return Err(LogsError::InvalidParameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters.".into(),
            ));
        }
        let limit = limit(q.limit, MAX_EVENTS)?;
        let text = q.pattern.as_deref().unwrap_or("");
        if text.chars().count() > pattern::MAX_PATTERN_CHARS {
            return Err(validation(
                text,
                "filterPattern",
                &format!("Member must have length less than or equal to {}", pattern::MAX_PATTERN_CHARS),
            ));
        }
        let pattern = Pattern::parse(text).map_err(|e| LogsError::InvalidParameter(e.to_string()))?;
        let g = self.group(c, group)?;
        let streams = match (&q.streams, &q.prefix) {
            (None, None) => None,
            (names, prefix) => Some(
                self.inner
                    .store
                    .streams(g.id)?
                    .into_iter()
                    .filter(|s| {
                        names.as_ref().is_none_or(|n| n.contains(&s.name))
                            && prefix.as_ref().is_none_or(|p| s.name.starts_with(p.as_str()))
                    })
                    .map(|s| s.id)
                    .collect::<Vec<_>>(),
            ),
        };
        if streams.as_ref().is_some_and(Vec::is_empty) {
            return Ok((Vec::new(), None));
        }
        let range = EventRange {
            start_ms: q.start_ms.unwrap_or(i64::MIN).max(Self::retained_from(&g)),
            end_ms: q.end_ms.unwrap_or(i64::MAX),
            streams,
        };
        let mut after = match q.token.as_deref() {
            None => (i64::MIN, 0),
            Some(t) => {
                let t = decode_token(t)?;
                let (ts, seq) = t.split_once(':').ok_or_else(bad_token)?;
                (ts.parse().map_err(|_| bad_token())?, seq.parse().map_err(|_| bad_token())?)
            }
        };
        const PAGE: usize = 1000;
        let mut out = Vec::new();
        loop {
            let rows = self.inner.store.group_events(g.id, &range, after, PAGE)?;
            let exhausted = rows.len() < PAGE;
            for e in rows {
                after = (e.timestamp_ms, e.seq);
                if pattern.matches(&e.message) {
                    out.push(LogEvent::from(e));
                    if out.len() == limit {
                        let more = !self.inner.store.group_events(g.id, &range, after, 1)?.is_empty();
                        return Ok((out, more.then(|| encode_token(&format!("{}:{}", after.0, after.1)))));
                    }
                }
            }
            if exhausted {
                return Ok((out, None));
            }
        }
    }
}
