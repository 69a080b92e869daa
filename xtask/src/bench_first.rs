//! The first invoke on a freshly started server: a server started on a data directory
//! an earlier server used (as `lamina serve` is restarted on a workstation), a function
//! created, and its first Invoke timed, each runtime on a directory of its own. The very
//! first start, on an empty directory, is shown beside it.

use super::*;

/// `rounds` restarts for each of `kinds`, after one start on an empty directory.
pub(super) fn rows(root: &Path, rt: &tokio::runtime::Runtime, kinds: &[&Kind], rounds: usize) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for kind in kinds {
        let dir =
            TempDir(std::env::temp_dir().join(format!("lamina-bench-{}-first-{}", std::process::id(), kind.label)));
        let _ = std::fs::remove_dir_all(&dir.0);
        eprintln!("first invoke: {}", kind.label);
        let mut restarted = Vec::new();
        let mut empty = 0.0;
        for round in 0..=rounds {
            let server = start_server_in(root, "namespace", &dir.0, "")?;
            let ms = rt.block_on(first_invoke(server.addr, kind, round))?;
            drop(server);
            match round {
                0 => empty = ms,
                _ => restarted.push(ms),
            }
        }
        let restarted = sorted(restarted);
        let median = percentile(&restarted, 0.5);
        let (target, goal) = match kind.runtime {
            "provided.al2023" => ("≤ 5 ms", 5.0),
            _ => ("≤ 10 ms", 10.0),
        };
        rows.push(Row {
            what: format!(
                "First invoke on a freshly started server, {} (server restarted on its data directory, the function \
                 created, then invoked)",
                kind.label
            ),
            median: ms(median),
            spread: format!(
                "p90 {} over {rounds} restarts; the first start, on an empty data directory: {}",
                ms(percentile(&restarted, 0.9)),
                ms(empty)
            ),
            target: target.into(),
            ratio: format!("{:.2}× target", median / goal),
        });
    }
    Ok(rows)
}

/// Milliseconds from sending the first Invoke of a function just created to its answer.
async fn first_invoke(addr: SocketAddr, kind: &Kind, round: usize) -> Result<f64> {
    let mut conn = Conn::open(addr).await?;
    let name = format!("first-{}-{round}", kind.label);
    create(&mut conn, &name, kind).await?;
    let t = Instant::now();
    conn.invoke(&name).await?;
    Ok(t.elapsed().as_secs_f64() * 1e3)
}
