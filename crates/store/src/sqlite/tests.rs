use super::*;

fn function(name: &str) -> Function {
    Function {
        name: name.into(),
        account: "000000000000".into(),
        region: "us-east-1".into(),
        config: FunctionConfig {
            runtime: Runtime::parse("python3.12").unwrap(),
            role: "arn:aws:iam::000000000000:role/r".into(),
            handler: "app.handler".into(),
            description: String::new(),
            timeout_s: 3,
            memory_mb: 128,
            ephemeral_mb: 512,
            environment: Some(model::Variables::from([("A".to_string(), "b".to_string())])),
            architecture: Architecture::X86_64,
            tracing: TracingMode::PassThrough,
            dead_letter_target: None,
            logging: LoggingConfig { json: true, log_group: Some("custom".into()), ..Default::default() },
            snap_start: true,
            layers: vec![FunctionLayer {
                arn: "arn:aws:lambda:us-east-1:000000000000:layer:l:1".into(),
                code_size: 5,
                sha256_hex: "layerhex".into(),
            }],
        },
        code: CodeInfo { sha256_b64: "b64".into(), sha256_hex: "hex".into(), size: 10 },
        revision_id: "r1".into(),
        last_modified_ms: 1,
        state: FunctionState::Active,
        last_update_status: LastUpdateStatus::Successful,
        tags: BTreeMap::new(),
        reserved_concurrency: None,
        recursive_loop: None,
        version: None,
        last_version: 0,
        state_reason: None,
        event_invoke: Some(EventInvokeConfig {
            max_retries: Some(0),
            on_failure: Some("arn:aws:lambda:us-east-1:000000000000:function:dlq".into()),
            ..Default::default()
        }),
    }
}

#[test]
fn functions_round_trip_and_survive_reopen() {
    let dir = std::env::temp_dir().join(format!("lamina-store-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.db");
    let _ = std::fs::remove_file(&path);
    {
        let s = SqliteStore::open(&path).unwrap();
        assert!(s.insert_function(&function("b")).unwrap());
        assert!(s.insert_function(&function("a")).unwrap());
        assert!(!s.insert_function(&function("a")).unwrap(), "duplicate refused");
        let mut f = function("a");
        f.config.memory_mb = 512;
        assert!(s.update_function(&f).unwrap());
        assert!(!s.update_function(&function("zzz")).unwrap());
    }
    let s = SqliteStore::open(&path).unwrap();
    let a = s.get_function("000000000000", "us-east-1", "a").unwrap().unwrap();
    assert_eq!(a.config.memory_mb, 512);
    assert_eq!(a.config.environment.as_ref().and_then(|e| e.get("A")).map(String::as_str), Some("b"));
    assert_eq!(a.config.logging.log_group.as_deref(), Some("custom"));
    assert_eq!(a.config.layers[0].sha256_hex, "layerhex");
    assert!(s.code_in_use("layerhex").unwrap(), "a layer a function uses stays");
    assert_eq!(
        a.event_invoke.as_ref().and_then(|e| e.on_failure.as_deref()),
        Some("arn:aws:lambda:us-east-1:000000000000:function:dlq")
    );
    let page = s.list_functions("000000000000", "us-east-1", Some("a"), 10).unwrap();
    assert_eq!(page.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["b"]);
    assert!(s.delete_function("000000000000", "us-east-1", "a").unwrap());
    assert!(s.get_function("000000000000", "us-east-1", "a").unwrap().is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_database_from_before_versions_opens_and_keeps_its_rows() {
    let dir = std::env::temp_dir().join(format!("lamina-store-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.db");
    let _ = std::fs::remove_file(&path);
    {
        // The tables as the release before versions created them.
        let c = Connection::open(&path).unwrap();
        let old_columns = FUNCTION_TABLE_COLUMNS
            .replace(",\n    last_version INTEGER NOT NULL DEFAULT 0", "")
            .replace(",\n    layers TEXT NOT NULL DEFAULT '[]'", "")
            .replace(",\n    logging TEXT", "")
            .replace(",\n    snap_start INTEGER NOT NULL DEFAULT 0", "")
            .replace(",\n    recursive_loop TEXT", "");
        c.execute_batch(&format!(
            "CREATE TABLE functions ({old_columns}, PRIMARY KEY (account, region, name));
             CREATE TABLE async_events (id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,
                 function TEXT NOT NULL, payload BLOB NOT NULL, accepted_ms INTEGER NOT NULL,
                 attempts INTEGER NOT NULL, next_attempt_ms INTEGER NOT NULL, lease_ms INTEGER NOT NULL DEFAULT 0);
             INSERT INTO async_events (id, account, region, function, payload, accepted_ms, attempts, next_attempt_ms)
                 VALUES ('e1', 'a', 'r', 'f', x'7b7d', 0, 0, 0);"
        ))
        .unwrap();
        let mut f = function("old");
        f.event_invoke = None;
        let p = function_params(&f);
        let sql = format!(
            "INSERT INTO functions ({}) VALUES ({})",
            FUNCTION_COLUMNS.replace(", last_version, layers, logging, snap_start, recursive_loop", ""),
            placeholders(FUNCTION_PARAMS - 5)
        );
        c.execute(&sql, rusqlite::params_from_iter(p.iter().take(FUNCTION_PARAMS - 5))).unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    let old = s.get_function("000000000000", "us-east-1", "old").unwrap().unwrap();
    assert_eq!(old.last_version, 0);
    assert!(!old.config.snap_start && old.config.logging == LoggingConfig::default(), "later columns default");
    assert_eq!(old.recursive_loop, None);
    let mut version = old.clone();
    version.version = Some(1);
    let mut latest = old;
    latest.last_version = 1;
    assert!(s.publish_version(&latest, &version).unwrap());
    assert_eq!(s.all_versions().unwrap().len(), 1);
    let events = s.claim_due_events(10, 100, 10).unwrap();
    assert_eq!((events[0].id.as_str(), events[0].qualifier.as_deref()), ("e1", None));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn async_events_queue_in_due_order() {
    let s = SqliteStore::open(Path::new(":memory:")).unwrap();
    let ev = |id: &str, due: i64| AsyncEvent {
        id: id.into(),
        account: "a".into(),
        region: "r".into(),
        function: "f".into(),
        payload: b"{}".to_vec(),
        accepted_ms: 0,
        attempts: 0,
        next_attempt_ms: due,
        qualifier: None,
        seq: 0,
    };
    s.write_events(&[&ev("late", 50), &ev("early", 10)], &[]).unwrap();
    assert_eq!(s.next_event_due().unwrap(), Some(10));
    let claimed = s.claim_due_events(20, 500, 10).unwrap();
    assert_eq!(claimed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["early"]);
    let early = claimed[0].seq;
    assert_eq!(early, 2, "events are numbered in the order they came");
    assert!(s.claim_due_events(20, 500, 10).unwrap().is_empty(), "claimed events are leased");
    assert_eq!(s.next_event_due().unwrap(), Some(50), "the first event not being run");
    s.reschedule_event(early, 1, 100).unwrap();
    let due: Vec<_> =
        s.claim_due_events(100, 500, 10).unwrap().into_iter().map(|e| (e.id, e.attempts, e.seq)).collect();
    assert_eq!(due, [("late".to_string(), 0, 1), ("early".to_string(), 1, early)]);
    assert_eq!(s.next_event_due().unwrap(), Some(500), "every event is run: the first lease to run out");
    s.write_events(&[], &[1]).unwrap();
    assert!(s.claim_due_events(400, 1500, 10).unwrap().is_empty(), "still leased");
    s.release_leases().unwrap();
    assert_eq!(s.next_event_due().unwrap(), Some(100));
    assert_eq!(s.claim_due_events(400, 1500, 10).unwrap().len(), 1, "a restart releases leases");
    s.write_events(&[], &[early]).unwrap();
    assert_eq!(s.next_event_due().unwrap(), None, "nothing queued");
    s.write_events(&[&ev("next", 10)], &[]).unwrap();
    assert_eq!(s.claim_due_events(400, 1500, 10).unwrap()[0].seq, 3, "a number is never given twice");
}

#[test]
fn a_queue_keyed_by_request_id_is_carried_over_in_accept_order() {
    let dir = std::env::temp_dir().join(format!("lamina-async-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lamina.db");
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE async_events (id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, \
               function TEXT NOT NULL, payload BLOB NOT NULL, accepted_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, \
               next_attempt_ms INTEGER NOT NULL, lease_ms INTEGER NOT NULL DEFAULT 0);
             CREATE INDEX async_events_due ON async_events (next_attempt_ms);
             INSERT INTO async_events VALUES ('b', 'a', 'r', 'f', X'7B7D', 20, 1, 30, 999);
             INSERT INTO async_events VALUES ('a', 'a', 'r', 'f', X'7B7D', 10, 0, 10, 0);",
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    s.release_leases().unwrap();
    let got: Vec<_> =
        s.claim_due_events(100, 200, 10).unwrap().into_iter().map(|e| (e.id, e.seq, e.attempts, e.payload)).collect();
    assert_eq!(got, [("a".into(), 1, 0, b"{}".to_vec()), ("b".into(), 2, 1, b"{}".to_vec())]);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
