//! mock-provider: a fast, scriptable mock LLM provider for Switchyard's tests and benchmarks.

mod anthropic;
mod body;
mod gemini;
mod knobs;
mod openai;
mod record;
mod responses;
mod script;
mod server;
mod surfaces;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::io::Write;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

const USAGE: &str = "\
usage: mock-provider [options]

  --host HOST          bind address (default 127.0.0.1)
  --port PORT          port, 0 = any free port (default 0)
  --threads N          tokio worker threads; 1 = current-thread runtime (default 1)
  --latency-ms MS      delay before response headers (default 0)
  --ttft-ms MS         streams: delay before the first chunk (default 0)
  --chunks N           content chunks / completion tokens (default 8)
  --interval-ms MS     streams: gap between content chunks (default 0)
  --record N           keep the last N requests for GET /_mock/requests, 0 = off (default 1000)
  -h, --help           this text

Prints `listening on HOST:PORT` once bound. Per-request knobs: path prefix
/mock/k=v,k=v/v1/chat/completions or a top-level \"mock\": {...} object in the body.
See benches/mock_provider/README.md.";

struct Cli {
    host: String,
    port: u16,
    threads: usize,
    record: usize,
    knobs: knobs::Knobs,
}

fn parse_cli() -> Result<Cli, String> {
    let mut cli = Cli {
        host: "127.0.0.1".into(),
        port: 0,
        threads: 1,
        record: 1000,
        knobs: knobs::Knobs::with_chunks(8),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let Some(value) = inline.or_else(|| args.next()) else {
            return Err(format!("{name} needs a value"));
        };
        let bad = |_| format!("{name}: bad value '{value}'");
        match name.as_str() {
            "--host" => cli.host = value.clone(),
            "--port" => cli.port = value.parse().map_err(bad)?,
            "--threads" => cli.threads = value.parse().map_err(bad)?,
            "--record" => cli.record = value.parse().map_err(bad)?,
            "--latency-ms" | "--ttft-ms" | "--chunks" | "--interval-ms" => {
                let key = name.trim_start_matches("--").replace('-', "_");
                cli.knobs.set(&key, &value)?;
            }
            _ => return Err(format!("unknown option {name}")),
        }
    }
    Ok(cli)
}

async fn serve(cli: Cli) -> std::io::Result<()> {
    let listener = TcpListener::bind((cli.host.as_str(), cli.port)).await?;
    let mut addr = listener.local_addr()?;
    let mut out = std::io::stdout();
    writeln!(out, "listening on {addr}")?;
    out.flush()?;
    let state = Arc::new(server::State {
        defaults: cli.knobs,
        rec: Arc::new(record::Recorder::new(cli.record)),
        origin: {
            if addr.ip().is_unspecified() {
                addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{addr}")
        },
    });
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        let sock = tokio::select! {
            r = listener.accept() => r,
            _ = term.recv() => break,
            _ = int.recv() => break,
        };
        let (sock, _) = match sock {
            Ok(s) => s,
            Err(e) => {
                // e.g. EMFILE: back off instead of spinning.
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = sock.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| server::handle(state.clone(), req));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .header_read_timeout(None)
                .serve_connection(TokioIo::new(sock), svc)
                .await;
        });
    }
    Ok(())
}

fn main() {
    let cli = match parse_cli() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mock-provider: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let rt = if cli.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.threads)
            .enable_all()
            .build()
    };
    let rt = rt.expect("tokio runtime");
    if let Err(e) = rt.block_on(serve(cli)) {
        eprintln!("mock-provider: {e}");
        std::process::exit(1);
    }
    // Dropping the runtime cancels every connection task (hanging requests included).
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
}
