//! What a full run measures, section by section, as rows of docs/PERFORMANCE.md.

use super::*;

/// What the sandbox adds to a cold start: the same Python function, unsandboxed and
/// sandboxed, 200 ms apart. The sandboxed server goes on to the main rows.
pub(super) fn sandbox_rows(
    root: &Path,
    rt: &tokio::runtime::Runtime,
    python: &Kind,
    settings: &Settings,
) -> Result<(Vec<Row>, Server)> {
    let mut rows = Vec::new();
    let plain = start_server(root, "process")?;
    let gap = Duration::from_millis(200);
    let plain_cold = rt.block_on(cold_starts(plain.addr, python, settings.cold_runs, gap))?.1;
    drop(plain);
    let server = start_server(root, "namespace")?;
    let addr = server.addr;
    let sandboxed_cold = rt.block_on(cold_starts(addr, python, settings.cold_runs, gap))?.1;
    let (plain_p50, sandboxed_p50) = (percentile(&plain_cold, 0.5), percentile(&sandboxed_cold, 0.5));
    rows.push(Row {
        what: "Cold start, python, unsandboxed (`--sandbox process`), 200 ms apart".into(),
        median: ms(plain_p50),
        spread: format!("p90 {}", ms(percentile(&plain_cold, 0.9))),
        target: "—".into(),
        ratio: "—".into(),
    });
    rows.push(Row {
        what: "Cold start, python, sandboxed, 200 ms apart (ready cells, prestarted runtime)".into(),
        median: ms(sandboxed_p50),
        spread: format!(
            "p90 {}; {:+.2} ms against unsandboxed",
            ms(percentile(&sandboxed_cold, 0.9)),
            sandboxed_p50 - plain_p50
        ),
        target: "≤ 15 ms p50; ≤ 2 ms over unsandboxed (stretch ≤ 3 ms)".into(),
        ratio: format!("{:.2}× target; {:.2}× unsandboxed", sandboxed_p50 / 15.0, sandboxed_p50 / plain_p50),
    });
    Ok((rows, server))
}

/// Everything measured on one sandboxed server: cold starts, the API floor, warm
/// latency, the gateway, logs, throughput and async accepts.
pub(super) async fn main_rows(server: &Server, kinds: &[Kind], settings: &Settings) -> Result<Vec<Row>> {
    let addr = server.addr;
    let mut rows = cold_rows(addr, kinds, settings).await?;
    let mut conn = Conn::open(addr).await?;
    rows.push(layer_row(&mut conn, addr, &kinds[0], settings).await?);
    let (floor_p50, warm) = warm_rows(&mut conn, addr, kinds, settings).await?;
    rows.extend(warm);
    rows.extend(gateway::rows(&mut conn, addr, floor_p50, settings).await?);
    rows.extend(logs::rows(&mut conn, addr, floor_p50, settings.warm_invokes).await?);
    eprintln!("logs: flood");
    rows.push(logs::flood(addr, &server.data_dir(), &|| server.rss_kib(), settings.flood_megabytes).await?);
    rows.extend(throughput_rows(server, kinds, settings).await?);
    rows.push(stream_row(&mut conn, settings).await?);
    rows.push(accept_row(server, settings).await?);
    Ok(rows)
}

/// The warm path alone (`--warm-only`): the API floor, warm latency, throughput and async
/// accepts, on one server.
pub(super) async fn warm_path(server: &Server, kinds: &[Kind], settings: &Settings) -> Result<Vec<Row>> {
    let mut conn = Conn::open(server.addr).await?;
    let (_, mut rows) = warm_rows(&mut conn, server.addr, kinds, settings).await?;
    rows.extend(throughput_rows(server, kinds, settings).await?);
    rows.push(accept_row(server, settings).await?);
    Ok(rows)
}

/// How long after a Node function writes the first piece of a streamed response the
/// caller of InvokeWithResponseStream has it: the function writes the wall-clock time it
/// writes, in milliseconds with microseconds, and keeps its stream open a while after.
async fn stream_row(conn: &mut Conn, settings: &Settings) -> Result<Row> {
    eprintln!("streaming: first byte");
    let code = b"exports.handler = awslambda.streamifyResponse(async (event, stream) => {\n  \
                 stream.write(String(performance.timeOrigin + performance.now()));\n  \
                 await new Promise((r) => setTimeout(r, 20));\n  stream.end();\n});\n";
    let kind = Kind {
        label: "node-stream",
        runtime: "nodejs20.x",
        handler: "index.handler",
        zip: zip(&[("index.js", code, 0o644)])?,
        layers: Vec::new(),
    };
    create(conn, "stream-first-byte", &kind).await?;
    conn.first_streamed_chunk("stream-first-byte").await?; // the cold start
    let mut delays = Vec::new();
    for _ in 0..settings.cold_runs.max(20) * 5 {
        let (payload, at) = conn.first_streamed_chunk("stream-first-byte").await?;
        let written: f64 = std::str::from_utf8(&payload)?.trim().parse()?;
        let arrived = at.duration_since(std::time::UNIX_EPOCH)?.as_secs_f64() * 1000.0;
        delays.push((arrived - written).max(0.0));
    }
    let delays = sorted(delays);
    let p50 = percentile(&delays, 0.5);
    Ok(Row {
        what: "Streamed response, first byte: the function's write to the InvokeWithResponseStream caller's PayloadChunk (Node, warm)".into(),
        median: ms(p50),
        spread: format!("p90 {}, over {} invocations", ms(percentile(&delays, 0.9)), delays.len()),
        target: "< 5 ms".into(),
        ratio: format!("{:.2}× target", p50 / 5.0),
    })
}

/// Cold starts of each kind, each a first Invoke right after its CreateFunction: back to
/// back (the sandbox refills its ready cells while the next one is being claimed), then
/// 200 ms apart (it has refilled them).
pub(super) async fn cold_rows(addr: SocketAddr, kinds: &[Kind], settings: &Settings) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for kind in kinds {
        for (gap, how) in [(Duration::ZERO, "back to back"), (Duration::from_millis(200), "200 ms apart")] {
            eprintln!("cold starts: {}, {how}", kind.label);
            let (create_ms, first_ms) = cold_starts(addr, kind, settings.cold_runs, gap).await?;
            let p50 = percentile(&first_ms, 0.5);
            let (target, ratio) = match kind.label {
                "python" => ("≤ 5 ms p50", format!("{:.2}× target", p50 / 5.0)),
                "node" => ("≤ 15 ms p50 (AWS: 134–138 ms init)", format!("{:.2}× target", p50 / 15.0)),
                "ruby" => ("< 60 ms p50", format!("{:.2}× target", p50 / 60.0)),
                "java" => ("< 400 ms p50", format!("{:.2}× target", p50 / 400.0)),
                _ => ("≤ 3 ms p50 (AWS: 15 ms init)", format!("{:.2}× target", p50 / 3.0)),
            };
            rows.push(Row {
                what: format!("Cold start, {}, {how} (first Invoke right after CreateFunction)", kind.label),
                median: ms(p50),
                spread: format!(
                    "p90 {}; CreateFunction itself {}",
                    ms(percentile(&first_ms, 0.9)),
                    ms(percentile(&create_ms, 0.5))
                ),
                target: target.into(),
                ratio,
            });
        }
    }
    Ok(rows)
}

/// Python with five layers against none, 200 ms apart.
async fn layer_row(conn: &mut Conn, addr: SocketAddr, python: &Kind, settings: &Settings) -> Result<Row> {
    let gap = Duration::from_millis(200);
    eprintln!("cold starts: python with 5 layers");
    let layered = Kind {
        label: "python-5-layers",
        runtime: python.runtime,
        handler: python.handler,
        zip: python.zip.clone(),
        layers: publish_layers(conn, 5).await?,
    };
    // Both 200 ms apart, one after the other, so that each finds the same ready cells.
    let (_, plain_ms) = cold_starts(addr, python, settings.cold_runs, gap).await?;
    let (_, layered_ms) = cold_starts(addr, &layered, settings.cold_runs, gap).await?;
    let (plain_p50, layered_p50) = (percentile(&plain_ms, 0.5), percentile(&layered_ms, 0.5));
    Ok(Row {
        what: "Cold start, python with 5 layers (20 modules each) against none, 200 ms apart".into(),
        median: ms(layered_p50),
        spread: format!(
            "p90 {}; without layers {} in the same run ({:+.2} ms)",
            ms(percentile(&layered_ms, 0.9)),
            ms(plain_p50),
            layered_p50 - plain_p50
        ),
        target: "—".into(),
        ratio: format!("{:.2}× without layers", layered_p50 / plain_p50),
    })
}

/// The API floor and each kind's warm invoke latency over it; the floor's median too.
async fn warm_rows(conn: &mut Conn, addr: SocketAddr, kinds: &[Kind], settings: &Settings) -> Result<(f64, Vec<Row>)> {
    let mut rows = Vec::new();
    for kind in kinds {
        create(conn, &format!("warm-{}", kind.label), kind).await?;
    }
    let floor = api_floor(addr, "warm-provided", settings.warm_invokes).await?;
    let floor_p50 = percentile(&floor, 0.5);
    rows.push(Row {
        what: "API floor: GetFunctionConfiguration, one keep-alive connection".into(),
        median: format!("{floor_p50:.0} µs"),
        spread: format!("p99 {:.0} µs ({} calls)", percentile(&floor, 0.99), floor.len()),
        target: "—".into(),
        ratio: "—".into(),
    });
    for kind in kinds {
        let name = format!("warm-{}", kind.label);
        eprintln!("warm latency: {}", kind.label);
        let us = warm_latency(addr, &name, settings.warm_invokes).await?;
        let p50 = percentile(&us, 0.5);
        let added = p50 - floor_p50;
        let (target, ratio) = if kind.label.starts_with("provided") {
            ("≤ 150 µs added", format!("{:.2}× target", added / 150.0))
        } else {
            ("—", "—".into())
        };
        rows.push(Row {
            what: format!("Warm invoke latency, {} no-op, one keep-alive connection", kind.label),
            median: format!("{p50:.0} µs"),
            spread: format!(
                "{added:.0} µs over the API floor; p99 {:.0} µs ({} invokes)",
                percentile(&us, 0.99),
                us.len()
            ),
            target: target.into(),
            ratio,
        });
    }
    Ok((floor_p50, rows))
}

/// Warm throughput of each kind on 1 and 8 connections.
async fn throughput_rows(server: &Server, kinds: &[Kind], settings: &Settings) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for kind in kinds {
        let name = format!("warm-{}", kind.label);
        for connections in [1usize, 8] {
            eprintln!("throughput: {} x{connections}", kind.label);
            let mut rates = Vec::new();
            server.peak().reset();
            for _ in 0..settings.throughput_rounds {
                rates.push(throughput(server.addr, &name, connections, settings.throughput_secs).await?);
            }
            let rates = sorted(rates);
            let median = percentile(&rates, 0.5);
            let (target, ratio) = match kind.label {
                "provided" | "provided-minimal" => ("≥ 10,000/s", format!("{:.2}× target", median / 10_000.0)),
                "python" => ("≥ 5,000/s", format!("{:.2}× target", median / 5_000.0)),
                "ruby" if connections == 8 => ("≥ 2,000/s", format!("{:.2}× target", median / 2_000.0)),
                "java" if connections == 8 => ("≥ 4,000/s", format!("{:.2}× target", median / 4_000.0)),
                _ => ("—", "—".to_owned()),
            };
            rows.push(Row {
                what: format!("Warm throughput, {} no-op, {connections} keep-alive connection(s)", kind.label),
                median: format!("{median:.0}/s"),
                spread: format!(
                    "min {:.0}/s, max {:.0}/s over {} runs of {:.0} s{}",
                    rates[0],
                    rates[rates.len() - 1],
                    rates.len(),
                    settings.throughput_secs,
                    server.peak().note()
                ),
                target: target.into(),
                ratio,
            });
        }
    }
    Ok(rows)
}

/// How fast `Event` invokes are accepted durably.
pub(super) async fn accept_row(server: &Server, settings: &Settings) -> Result<Row> {
    eprintln!("async accept rate");
    let mut rates = Vec::new();
    server.peak().reset();
    for _ in 0..settings.throughput_rounds {
        rates.push(async_accept_rate(server.addr, "warm-provided-minimal", ACCEPT_CONNECTIONS, 4000).await?);
    }
    let rates = sorted(rates);
    let median = percentile(&rates, 0.5);
    Ok(Row {
        what: format!(
            "Async `Event` invokes accepted (durably stored before the 202), {ACCEPT_CONNECTIONS} connections"
        ),
        median: format!("{median:.0}/s"),
        spread: format!(
            "min {:.0}/s, max {:.0}/s over {} runs of 4,000{}",
            rates[0],
            rates[rates.len() - 1],
            rates.len(),
            server.peak().note()
        ),
        target: "≥ 5,000/s".into(),
        ratio: format!("{:.2}× target", median / 5_000.0),
    })
}

/// Draining a burst of `Event` invokes, on a fresh server so no earlier events are queued.
pub(super) fn drain_row(root: &Path, rt: &tokio::runtime::Runtime, minimal: &Kind, settings: &Settings) -> Result<Row> {
    let server = start_server_with(root, "namespace", "drain", "[functions]\nidle_timeout_secs = 600\n")?;
    let (mut totals, mut accepts) = (Vec::new(), Vec::new());
    rt.block_on(async {
        let mut conn = Conn::open(server.addr).await?;
        create(&mut conn, "drain", minimal).await?;
        conn.invoke("drain").await?;
        for _ in 0..settings.throughput_rounds {
            eprintln!("drain {} events", settings.drain_events);
            let (total, accepted) = drain(server.addr, "drain", settings.drain_events).await?;
            totals.push(total);
            accepts.push(accepted);
        }
        anyhow::Ok(())
    })?;
    drop(server);
    let (totals, accepts) = (sorted(totals), sorted(accepts));
    let total = percentile(&totals, 0.5);
    Ok(Row {
        what: format!(
            "Async drain: {} `Event` invokes of a warm no-op, from the first accepted to the last finished",
            settings.drain_events
        ),
        median: format!("{total:.2} s"),
        spread: format!(
            "{:.0} events/s end to end; accepting took {:.2} s; min {:.2} s, max {:.2} s over {} runs",
            settings.drain_events as f64 / total,
            percentile(&accepts, 0.5),
            totals[0],
            totals[totals.len() - 1],
            totals.len()
        ),
        target: "—".into(),
        ratio: "—".into(),
    })
}

/// SQS against moto, the peer users run for it, on the same machine in the same run;
/// and an event source mapping's latency.
pub(super) fn sqs_rows(root: &Path, rt: &tokio::runtime::Runtime, settings: &Settings) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let server = start_server_with(root, "namespace", "sqs", "[functions]\nidle_timeout_secs = 600\n")?;
    let rounds = settings.throughput_rounds;
    let secs = settings.throughput_secs;
    server.peak().reset();
    let lamina_sqs = rt.block_on(async {
        let mut rates = Vec::new();
        for r in 0..rounds {
            eprintln!("sqs throughput: lamina");
            rates.push(sqs_throughput(server.addr, 4, secs, &format!("l{r}")).await?);
        }
        anyhow::Ok(sorted(rates))
    })?;
    let peak = server.peak().note();
    eprintln!("esm latency");
    let latency = rt.block_on(esm_latency(server.addr, settings.cold_runs))?;
    drop(server);
    let moto_sqs = match start_moto(root) {
        Ok((mut moto, addr)) => {
            let rates = rt.block_on(async {
                let mut rates = Vec::new();
                for r in 0..rounds {
                    eprintln!("sqs throughput: moto");
                    rates.push(sqs_throughput(addr, 4, secs, &format!("m{r}")).await?);
                }
                anyhow::Ok(sorted(rates))
            });
            let _ = moto.kill();
            let _ = moto.wait();
            rates.map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    let lamina_rate = percentile(&lamina_sqs, 0.5);
    let (moto_text, ratio) = match &moto_sqs {
        Ok(rates) => {
            let moto_rate = percentile(rates, 0.5);
            (format!("moto 5.2.5 in the same run: {moto_rate:.0}/s"), format!("{:.1}× moto", lamina_rate / moto_rate))
        }
        Err(e) => (format!("moto could not run: {e}"), "—".into()),
    };
    rows.push(Row {
        what: "SQS send + receive + delete, batches of 10, 4 connections (a queue each)".into(),
        median: format!("{lamina_rate:.0} messages/s"),
        spread: format!(
            "min {:.0}/s, max {:.0}/s over {} runs of {:.0} s{peak}; {moto_text}",
            lamina_sqs[0],
            lamina_sqs[lamina_sqs.len() - 1],
            lamina_sqs.len(),
            secs
        ),
        target: "—".into(),
        ratio,
    });
    rows.push(Row {
        what: "SendMessage to the function's invocation through an event source mapping (warm)".into(),
        median: ms(percentile(&latency, 0.5)),
        spread: format!("p90 {}; {} messages, one at a time", ms(percentile(&latency, 0.9)), latency.len()),
        target: "near zero (long polling)".into(),
        ratio: "—".into(),
    });
    Ok(rows)
}
