use super::*;

fn service() -> LogsService {
    let dir = std::env::temp_dir().join(format!("lamina-logs-svc-{}-{}", std::process::id(), now_ms()));
    std::fs::create_dir_all(&dir).unwrap();
    LogsService::start(LogStore::open(&dir.join(format!("{}.db", uuid::Uuid::new_v4()))).unwrap()).unwrap()
}

fn caller() -> Caller {
    Caller { account: "000000000000".into(), region: "us-east-1".into() }
}

#[tokio::test]
async fn output_waits_for_room_and_the_writer_makes_it() {
    let s = service();
    assert!(s.has_room());
    let line = "y".repeat(64 * 1024);
    while s.has_room() {
        s.ingest("a", "r", "g", "st", vec![(1, line.clone())]);
    }
    // The writer takes what is pending, and whoever waits for room goes on.
    tokio::time::timeout(Duration::from_secs(30), s.until_room()).await.unwrap();
    assert_eq!(s.dropped_lines(), 0);
}

#[test]
fn output_past_the_pending_limit_is_dropped_and_counted() {
    let s = service();
    // Nothing is pending, so the writer waits and leaves the count alone.
    let big = "x".repeat(1024 * 1024);
    let mut p = s.inner.pending.lock();
    p.bytes = MAX_PENDING_BYTES - 10;
    drop(p);
    s.ingest("a", "r", "g", "st", vec![(1, big)]);
    assert_eq!(s.dropped_lines(), 1);
    s.ingest("a", "r", "g", "st", vec![(1, "small".into())]);
    assert_eq!(s.dropped_lines(), 1, "what still fits is kept");
}

#[test]
fn pending_output_is_merged_by_stream_in_order() {
    let b = |stream: &str, line: &str| LogAppend {
        account: "a".into(),
        region: "r".into(),
        group: "g".into(),
        stream: stream.into(),
        events: vec![(1, line.into())],
        ingestion_ms: 1,
        create: true,
    };
    let merged = by_stream(vec![b("x", "1"), b("y", "2"), b("x", "3")]);
    let lines: Vec<(String, Vec<String>)> =
        merged.into_iter().map(|m| (m.stream, m.events.into_iter().map(|e| e.1).collect())).collect();
    assert_eq!(lines, [("x".into(), vec!["1".into(), "3".into()]), ("y".into(), vec!["2".into()])]);
}

#[test]
fn get_log_events_pages_forward_and_backward() {
    let s = service();
    let c = caller();
    s.create_group(&c, "/g", None, None, BTreeMap::new()).unwrap();
    s.create_stream(&c, "/g", "st").unwrap();
    let now = now_ms();
    s.put_events(&c, "/g", "st", (0..5).map(|i| (now + i, format!("m{i}"))).collect()).unwrap();
    let msgs = |p: &GetPage| p.events.iter().map(|e| e.message.clone()).collect::<Vec<_>>();
    let tail = s.get_events(&c, "/g", "st", GetQuery { limit: Some(2), ..Default::default() }).unwrap();
    assert_eq!(msgs(&tail), ["m3", "m4"]);
    let back =
        s.get_events(&c, "/g", "st", GetQuery { limit: Some(2), token: Some(tail.backward), ..Default::default() });
    assert_eq!(msgs(&back.unwrap()), ["m1", "m2"]);
    let end = s.get_events(&c, "/g", "st", GetQuery { token: Some(tail.forward.clone()), ..Default::default() });
    let end = end.unwrap();
    assert!(end.events.is_empty());
    assert_eq!(end.forward, tail.forward, "at the end the forward token comes back unchanged");
    let head = s.get_events(&c, "/g", "st", GetQuery { from_head: true, limit: Some(3), ..Default::default() });
    assert_eq!(msgs(&head.unwrap()), ["m0", "m1", "m2"]);
}

#[test]
fn put_log_events_rejects_what_aws_rejects() {
    let s = service();
    let c = caller();
    s.create_group(&c, "g", None, None, BTreeMap::new()).unwrap();
    s.create_stream(&c, "g", "st").unwrap();
    let now = now_ms();
    let out = order_err(&s, vec![(now, "b".into()), (now - 1, "a".into())]);
    assert!(out.contains("chronological"), "{out}");
    let span = order_err(&s, vec![(now - 2 * DAY_MS, "a".into()), (now, "b".into())]);
    assert!(span.contains("24 hours"), "{span}");
    let r = s.put_events(&c, "g", "st", vec![(now, "ok".into()), (now + 3 * 3_600_000, "new".into())]).unwrap();
    assert_eq!(r, Rejected { too_new_start: Some(1), ..Default::default() });
    let old = now - 15 * DAY_MS;
    let r = s.put_events(&c, "g", "st", vec![(old, "a".into()), (old + 1, "b".into())]).unwrap();
    assert_eq!(r, Rejected { too_old_end: Some(1), ..Default::default() });
    let (kept, _) = s.filter_events(&c, "g", FilterQuery::default()).unwrap();
    assert_eq!(kept.len(), 1);
}

fn order_err(s: &LogsService, events: Vec<(i64, String)>) -> String {
    s.put_events(&caller(), "g", "st", events).unwrap_err().to_string()
}

#[test]
fn retention_hides_old_events_at_once() {
    let s = service();
    let c = caller();
    s.create_group(&c, "g", None, None, BTreeMap::new()).unwrap();
    s.create_stream(&c, "g", "st").unwrap();
    let now = now_ms();
    s.put_events(&c, "g", "st", vec![(now - 3 * DAY_MS, "old".into())]).unwrap();
    s.put_events(&c, "g", "st", vec![(now, "new".into())]).unwrap();
    s.set_retention(&c, "g", Some(1)).unwrap();
    let (events, _) = s.filter_events(&c, "g", FilterQuery::default()).unwrap();
    assert_eq!(events.iter().map(|e| e.message.as_str()).collect::<Vec<_>>(), ["new"]);
    let r =
        s.put_events(&c, "g", "st", vec![(now - DAY_MS - 60_000, "late".into()), (now - 120_000, "x".into())]).unwrap();
    assert_eq!(r.expired_end, Some(0));
    assert!(s.set_retention(&c, "g", Some(2)).unwrap_err().to_string().contains("enum value set"));
}

#[test]
fn output_queued_before_a_group_is_deleted_goes_with_it() {
    let s = service();
    let c = caller();
    s.create_group(&c, "g", None, None, BTreeMap::new()).unwrap();
    {
        // The writer cannot commit while this is held: both lines stay pending.
        let _held = s.inner.commit.lock();
        s.ingest(&c.account, &c.region, "g", "st", vec![(now_ms(), "late".into())]);
        s.ingest(&c.account, &c.region, "h", "st", vec![(now_ms(), "kept".into())]);
    }
    // Whichever comes first, the writer's commit or the deletion, `g` stays deleted.
    s.delete_group(&c, "g").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while s.group(&c, "h").is_err() {
        assert!(std::time::Instant::now() < deadline, "the other group's line was never written");
        std::thread::yield_now();
    }
    assert!(s.group(&c, "g").is_err());
}
