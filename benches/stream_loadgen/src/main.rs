//! Streaming load generator: C keep-alive HTTP/1.1 connections, each POSTing the same body back to back for
//! a fixed time, timing every SSE event (a block ending in a blank line) as it arrives.
//!
//! Prints one JSON object: streams, errors, stalled streams, and percentiles (µs) of the time to the first
//! event, of the gaps between events, and (when the mock stamps its chunks, knob `stamp`) of each event's
//! relay delay: arrival wall-clock time minus the `"mock_sent_us"` the mock wrote as it sent the chunk. One current-thread tokio runtime, so it costs little CPU
//! beside the targets it measures (wrk and h2load only see whole responses).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

const USAGE: &str =
    "stream-loadgen --url http://HOST:PORT/PATH --body-file F [--connections 1] [--duration-s 5] \
[--header 'name: value']... [--stall-ms 100]";

struct Args {
    host: String,
    path: String,
    body: Bytes,
    connections: usize,
    duration: Duration,
    headers: Vec<(String, String)>,
    stall: Duration,
}

#[derive(Default)]
struct Stats {
    streams: u64,
    errors: u64,
    stalled: u64,
    stalled_connections: u64,
    events: u64,
    ttfb_us: Vec<u64>,
    gap_us: Vec<u64>,
    relay_us: Vec<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut url, mut body, mut connections, mut duration_s, mut headers, mut stall_ms) =
        (None, None, 1usize, 5.0f64, Vec::new(), 100u64);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--body-file" => body = Some(std::fs::read(value()?).map_err(|e| e.to_string())?),
            "--connections" => connections = value()?.parse().map_err(|_| "bad --connections")?,
            "--duration-s" => duration_s = value()?.parse().map_err(|_| "bad --duration-s")?,
            "--stall-ms" => stall_ms = value()?.parse().map_err(|_| "bad --stall-ms")?,
            "--header" => {
                let h = value()?;
                let (n, v) = h.split_once(':').ok_or("--header wants 'name: value'")?;
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let url = url.ok_or(USAGE)?;
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Ok(Args {
        host: host.to_string(),
        path: if path.is_empty() {
            "/".into()
        } else {
            path.into()
        },
        body: Bytes::from(body.ok_or(USAGE)?),
        connections,
        duration: Duration::from_secs_f64(duration_s),
        headers,
        stall: Duration::from_millis(stall_ms),
    })
}

const STAMP_KEY: &[u8] = br#""mock_sent_us":""#;

/// The mock's send time stamped in one event, in µs since the epoch.
fn stamp_of(event: &[u8]) -> Option<u64> {
    let at = event
        .windows(STAMP_KEY.len())
        .position(|w| w == STAMP_KEY)?
        + STAMP_KEY.len();
    std::str::from_utf8(event.get(at..at + 16)?)
        .ok()?
        .parse()
        .ok()
}

fn wall_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

async fn one_connection(args: &Args, deadline: Instant) -> Result<Stats, String> {
    let mut st = Stats::default();
    let tcp = TcpStream::connect(&args.host)
        .await
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| e.to_string())?;
    tokio::task::spawn_local(conn);
    while Instant::now() < deadline {
        let mut req = Request::post(args.path.as_str())
            .header("host", args.host.as_str())
            .header("content-type", "application/json");
        for (n, v) in &args.headers {
            req = req.header(n.as_str(), v.as_str());
        }
        let req = req
            .body(Full::new(args.body.clone()))
            .map_err(|e| e.to_string())?;
        let t0 = Instant::now();
        let resp = match sender.send_request(req).await {
            Ok(r) => r,
            Err(e) => return Err(e.to_string()),
        };
        let ok = resp.status().is_success();
        let mut body = resp.into_body();
        let (mut last, mut first, mut stalled) = (t0, true, false);
        let mut gaps = Vec::with_capacity(80);
        let mut buf: Vec<u8> = Vec::with_capacity(4096);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| e.to_string())?;
            let Some(data) = frame.data_ref() else {
                continue;
            };
            let (now, wall) = (Instant::now(), wall_us());
            buf.extend_from_slice(data);
            while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
                if let Some(sent) = stamp_of(&buf[..end]) {
                    st.relay_us.push(wall.saturating_sub(sent));
                }
                buf.drain(..end + 2);
                let us = now.duration_since(last).as_micros() as u64;
                if first {
                    st.ttfb_us.push(us);
                    first = false;
                } else {
                    gaps.push(us);
                    stalled |= now.duration_since(last) > args.stall;
                }
                last = now;
                st.events += 1;
            }
        }
        st.streams += 1;
        st.errors += u64::from(!ok || first);
        st.stalled += u64::from(stalled);
        st.stalled_connections = st.stalled_connections.max(u64::from(stalled));
        st.gap_us.extend(gaps);
        sender.ready().await.map_err(|e| e.to_string())?;
    }
    Ok(st)
}

fn pct(sorted: &[u64], p: f64) -> serde_json::Value {
    if sorted.is_empty() {
        return serde_json::Value::Null;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i].into()
}

fn summary(v: &mut [u64]) -> serde_json::Value {
    v.sort_unstable();
    serde_json::json!({
        "n": v.len(), "p50": pct(v, 50.0), "p90": pct(v, 90.0), "p99": pct(v, 99.0),
        "p99.9": pct(v, 99.9), "max": v.last().copied(),
    })
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    let started = Instant::now();
    let args = std::rc::Rc::new(args);
    let (mut total, conn_errors) = local.block_on(&rt, async {
        let deadline = started + args.duration;
        let handles: Vec<_> = (0..args.connections)
            .map(|_| {
                let args = args.clone();
                tokio::task::spawn_local(async move { one_connection(&args, deadline).await })
            })
            .collect();
        let mut total = Stats::default();
        let mut conn_errors = Vec::new();
        for h in handles {
            match h.await.map_err(|e| e.to_string()).and_then(|r| r) {
                Ok(s) => {
                    total.streams += s.streams;
                    total.errors += s.errors;
                    total.stalled += s.stalled;
                    total.stalled_connections += s.stalled_connections;
                    total.events += s.events;
                    total.ttfb_us.extend(s.ttfb_us);
                    total.gap_us.extend(s.gap_us);
                    total.relay_us.extend(s.relay_us);
                }
                Err(e) => conn_errors.push(e),
            }
        }
        (total, conn_errors)
    });
    let elapsed = started.elapsed().as_secs_f64();
    let out = serde_json::json!({
        "connections": args.connections,
        "elapsed_s": elapsed,
        "streams": total.streams,
        "streams_per_s": total.streams as f64 / elapsed,
        "events": total.events,
        "errors": total.errors + conn_errors.len() as u64,
        "connection_errors": conn_errors,
        "stalled_streams": total.stalled,
        // Concurrent streams held without a stall: connections none of whose streams stalled.
        "held_without_stall": args.connections as u64 - total.stalled_connections - conn_errors.len() as u64,
        "ttfb_us": summary(&mut total.ttfb_us),
        "gap_us": summary(&mut total.gap_us),
        "relay_us": summary(&mut total.relay_us),
    });
    println!("{out}");
}
