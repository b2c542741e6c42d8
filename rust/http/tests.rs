//! The pure-Rust client against small HTTP/1.1 servers on 127.0.0.1 written with raw tokio sockets
//! (each test scripts exactly what the upstream sends and watches what the client does to the socket).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::client::{self, After, Client, Config, Deadlines, ErrorKind};

fn client() -> Client {
    Client::new(&Config {
        connect_timeout: Duration::from_millis(500),
        ..Config::default()
    })
    .unwrap()
}

/// Runs `fut` on the extension's runtime (the client's connection tasks live there) and waits.
fn run<T: Send + 'static>(
    c: &Client,
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    let h = c.runtime().clone();
    let task = h.spawn(fut);
    h.block_on(task).unwrap()
}

/// Reads one request head (and a Content-Length body) from `s`; false on EOF.
async fn read_request(s: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < end + 4 + len {
                let n = s.read(&mut tmp).await.unwrap();
                if n == 0 {
                    return false;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            return true;
        }
        let n = s.read(&mut tmp).await.unwrap_or(0);
        if n == 0 {
            return false;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// A keep-alive server answering every request with `body`; counts accepted connections.
async fn fixed_server(body: &'static [u8]) -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1/x", l.local_addr().unwrap());
    let conns = Arc::new(AtomicUsize::new(0));
    let counter = conns.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = l.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                while read_request(&mut s).await {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    s.write_all(head.as_bytes()).await.unwrap();
                    s.write_all(body).await.unwrap();
                }
            });
        }
    });
    (url, conns)
}

fn far() -> Deadlines {
    Deadlines {
        total: Instant::now() + Duration::from_secs(10),
        read: None,
    }
}

async fn read_to_end(body: &mut reqwest::Body) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(b) = client::next_chunk(body).await {
        out.extend_from_slice(&b.unwrap());
    }
    out
}

#[test]
fn whole_body_and_the_connection_is_reused() {
    let c = client();
    let c2 = c.clone();
    let (n, conns) = run(&c, async move {
        let (url, conns) = fixed_server(b"{\"ok\":true}").await;
        let mut n = 0;
        for _ in 0..5 {
            let req = c2
                .request(
                    "POST",
                    &url,
                    [("content-type", "application/json")],
                    Bytes::from_static(b"{}"),
                )
                .unwrap();
            let mut head = far().run(c2.execute(req)).await.unwrap();
            assert_eq!(head.status, 200);
            assert_eq!(head.headers["content-type"], "application/json");
            assert_eq!(read_to_end(&mut head.body).await, b"{\"ok\":true}");
            n += 1;
            // the connection goes back to the pool when its task next runs, not when the body ends
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (n, conns)
    });
    assert_eq!(n, 5);
    assert_eq!(
        conns.load(Ordering::SeqCst),
        1,
        "keep-alive: one connection for 5 requests"
    );
}

#[test]
fn a_paced_chunked_stream_arrives_piece_by_piece() {
    let c = client();
    let c2 = c.clone();
    let got = run(&c, async move {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", l.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            read_request(&mut s).await;
            s.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await
                .unwrap();
            for ev in ["data: 1\n\n", "data: 2\n\n", "data: 3\n\n"] {
                s.write_all(format!("{:x}\r\n{ev}\r\n", ev.len()).as_bytes())
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(80)).await;
            }
            s.write_all(b"0\r\n\r\n").await.unwrap();
        });
        let req = c2.request("GET", &url, [], Bytes::new()).unwrap();
        let mut head = far().run(c2.execute(req)).await.unwrap();
        let t0 = Instant::now();
        let mut got = Vec::new();
        loop {
            let (chunk, after) = client::next_chunks(&mut head.body).await;
            let Some(chunk) = chunk else { break };
            got.push((chunk.unwrap(), t0.elapsed()));
            if let After::End = after {
                break;
            }
        }
        got
    });
    let texts: Vec<_> = got.iter().map(|(b, _)| b.clone()).collect();
    assert_eq!(texts, ["data: 1\n\n", "data: 2\n\n", "data: 3\n\n"]);
    assert!(got[1].1 >= Duration::from_millis(60), "{got:?}");
    assert!(got[2].1 >= Duration::from_millis(140), "{got:?}");
}

#[test]
fn a_burst_already_received_is_joined_into_one_chunk() {
    let c = client();
    let c2 = c.clone();
    let (chunk, ended) = run(&c, async move {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", l.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            read_request(&mut s).await;
            let mut out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            for ev in ["a\n\n", "b\n\n", "c\n\n"] {
                out.extend_from_slice(format!("{:x}\r\n{ev}\r\n", ev.len()).as_bytes());
            }
            out.extend_from_slice(b"0\r\n\r\n");
            s.write_all(&out).await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
        });
        let req = c2.request("GET", &url, [], Bytes::new()).unwrap();
        let mut head = far().run(c2.execute(req)).await.unwrap();
        let (chunk, after) = client::next_chunks(&mut head.body).await;
        (chunk.unwrap().unwrap(), matches!(after, After::End))
    });
    assert_eq!(chunk, "a\n\nb\n\nc\n\n");
    assert!(ended);
}

/// A server that accepts, reads the request, never answers, and reports when the client hangs up.
async fn silent_server() -> (String, mpsc::UnboundedReceiver<Duration>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (mut s, _) = l.accept().await.unwrap();
        read_request(&mut s).await;
        let t0 = Instant::now();
        let mut b = [0u8; 64];
        while s.read(&mut b).await.unwrap_or(0) > 0 {}
        let _ = tx.send(t0.elapsed());
    });
    (url, rx)
}

#[test]
fn an_aborted_send_closes_its_connection() {
    let c = client();
    let c2 = c.clone();
    let closed_after = run(&c, async move {
        let (url, mut hung_up) = silent_server().await;
        let req = c2
            .request("POST", &url, [], Bytes::from_static(b"x"))
            .unwrap();
        let task = tokio::spawn(c2.execute(req));
        tokio::time::sleep(Duration::from_millis(100)).await;
        task.abort();
        tokio::time::timeout(Duration::from_secs(2), hung_up.recv()).await
    });
    assert!(
        closed_after.is_ok(),
        "the upstream never saw the connection close"
    );
}

#[test]
fn timeouts_name_the_deadline_that_passed() {
    let c = client();
    let c2 = c.clone();
    let (read, total) = run(&c, async move {
        let (url, _rx) = silent_server().await;
        let req = c2.request("POST", &url, [], Bytes::new()).unwrap();
        let read = Deadlines {
            total: Instant::now() + Duration::from_secs(5),
            read: Some(Duration::from_millis(100)),
        }
        .run(c2.execute(req))
        .await
        .err()
        .unwrap();
        let (url, _rx) = silent_server().await;
        let req = c2.request("POST", &url, [], Bytes::new()).unwrap();
        let total = Deadlines {
            total: Instant::now() + Duration::from_millis(100),
            read: Some(Duration::from_secs(5)),
        }
        .run(c2.execute(req))
        .await
        .err()
        .unwrap();
        (read, total)
    });
    assert_eq!(read.kind, ErrorKind::ReadTimeout);
    assert_eq!(total.kind, ErrorKind::RequestTimeout);
}

#[test]
fn refused_and_unreachable_connections_are_connect_errors() {
    let c = client();
    let c2 = c.clone();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // bound then closed: nothing listens there now
    let err = run(&c, async move {
        let req = c2
            .request(
                "GET",
                &format!("http://127.0.0.1:{port}/"),
                [],
                Bytes::new(),
            )
            .unwrap();
        far().run(c2.execute(req)).await.err().unwrap()
    });
    assert_eq!(err.kind, ErrorKind::Connect, "{err}");
    assert!(
        !err.message.contains("127.0.0.1"),
        "no URL in messages: {err}"
    );
}

#[test]
fn a_cut_body_is_a_transport_error() {
    let c = client();
    let c2 = c.clone();
    let err = run(&c, async move {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", l.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            read_request(&mut s).await;
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this")
                .await
                .unwrap();
        });
        let req = c2.request("GET", &url, [], Bytes::new()).unwrap();
        let mut head = far().run(c2.execute(req)).await.unwrap();
        loop {
            match client::next_chunk(&mut head.body).await {
                Some(Ok(_)) => continue,
                Some(Err(e)) => break Some(e),
                None => break None,
            }
        }
    });
    assert_eq!(
        err.expect("a cut body must not look complete").kind,
        ErrorKind::Transport
    );
}

#[test]
fn bad_requests_are_refused_before_sending() {
    let c = client();
    for (method, url, header) in [
        ("GET", "ftp://127.0.0.1/", ("a", "b")),
        ("GET", "not a url", ("a", "b")),
        ("BAD METHOD", "http://127.0.0.1/", ("a", "b")),
        ("GET", "http://127.0.0.1/", ("bad name", "b")),
        ("GET", "http://127.0.0.1/", ("a", "line\nbreak")),
    ] {
        let err = c
            .request(method, url, [header], Bytes::new())
            .err()
            .unwrap();
        assert_eq!(
            err.kind,
            ErrorKind::InvalidRequest,
            "{method} {url} {header:?}"
        );
    }
}
