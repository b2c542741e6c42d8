//! Routing, the admin endpoints, and what every dialect shares: the knob gate (hang, latency,
//! status), whole and streamed responses, and the deterministic completion text.

use crate::body::{End, MockBody, Step};
use crate::knobs::{split_prefix, Knobs};
use crate::record::{Flight, Recorder};
use crate::{anthropic, gemini, openai, responses, surfaces};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub type Resp = Response<MockBody>;

pub struct State {
    pub defaults: Knobs,
    pub rec: Arc<Recorder>,
    /// `http://HOST:PORT` this mock answers on (image URLs point back at it).
    pub origin: String,
}

/// Per-request context handed to a dialect handler.
pub struct Ctx {
    pub knobs: Knobs,
    rec: Arc<Recorder>,
    /// Taken by `stream()`/`whole()` when the body outlives the handler.
    flight: Option<Flight>,
}

impl Ctx {
    pub fn next_id(&self) -> u64 {
        self.rec
            .ids
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Apply `hang`, `latency_ms` and `status`. `Some(response)` means answer with it now.
    pub async fn gate(&mut self, error: fn(u16, &str) -> Resp) -> Option<Resp> {
        if self.knobs.hang {
            // Held until hyper notices the client closed the connection and drops this future.
            std::future::pending::<()>().await;
        }
        if self.knobs.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.knobs.latency_ms)).await;
        }
        if self.knobs.fail_pct > 0 {
            // Evenly spread by arrival: request n fails when the running share of failures is behind.
            let n = self
                .rec
                .gated
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let pct = u64::from(self.knobs.fail_pct);
            if (n + 1) * pct / 100 > n * pct / 100 {
                return Some(error(500, "mock error (fail_pct)"));
            }
        }
        if self.knobs.status >= 400 {
            let mut r = match &self.knobs.error_code {
                Some(code) => crate::openai::error_with_code(self.knobs.status, "mock error", code),
                None => error(self.knobs.status, "mock error"),
            };
            if let Some(s) = self.knobs.retry_after {
                r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
            }
            return Some(r);
        }
        None
    }

    /// A 200 JSON body; with `drop_after`, only its first half is sent before the socket closes.
    pub fn whole(&mut self, body: String) -> Resp {
        if self.knobs.drop_after.is_none() {
            return json(200, body);
        }
        let full = Bytes::from(body);
        let steps = vec![Step {
            delay: Duration::ZERO,
            data: full.slice(..full.len() / 2),
        }];
        let flight = self.flight.take().expect("flight");
        let mut r = Response::new(MockBody::paced(
            steps,
            End::Abort,
            Some(full.len() as u64),
            flight,
        ));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r
    }

    /// A `text/event-stream` response whose body writes `steps` with their delays.
    pub fn stream(&mut self, steps: Vec<Step>, end: End) -> Resp {
        let flight = self.flight.take().expect("flight");
        flight.stream_started();
        let mut body = MockBody::paced(steps, end, None, flight);
        if let MockBody::Paced(p) = &mut body {
            p.stamp = self.knobs.stamp;
        }
        let mut r = Response::new(body);
        let h = r.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        r
    }
}

pub fn json(status: u16, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(MockBody::full(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The completion split into content chunks: `word0`, ` word1`, ... or the `content` knob split
/// into `chunks` near-equal pieces (at least one).
pub fn pieces(k: &Knobs) -> Vec<String> {
    let n = k.chunks as usize;
    match &k.content {
        None => (0..n)
            .map(|i| {
                if i == 0 {
                    "word0".into()
                } else {
                    format!(" word{i}")
                }
            })
            .collect(),
        Some(text) => {
            let chars: Vec<char> = text.chars().collect();
            let n = n.min(chars.len()).max(1);
            (0..n)
                .map(|i| {
                    chars[i * chars.len() / n..(i + 1) * chars.len() / n]
                        .iter()
                        .collect()
                })
                .collect()
        }
    }
}

fn admin(state: &State, method: &Method, path: &str) -> Resp {
    match (method, path) {
        (&Method::GET, "requests") => json(200, state.rec.requests_json()),
        (&Method::DELETE, "requests") => {
            state.rec.clear();
            json(200, "{}")
        }
        (&Method::GET, "stats") => json(200, state.rec.stats_json()),
        (&Method::GET, p) if p.starts_with("image/") && p.ends_with(".png") => {
            let mut r = Response::new(MockBody::full(surfaces::PNG));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("image/png"));
            r
        }
        _ => json(404, r#"{"error":"unknown /_mock endpoint"}"#),
    }
}

/// The endpoint an OpenAI-style path names (`responses`, `embeddings`, ...): `/v1/{ep}`, `/{ep}`,
/// Azure's `/openai/v1/{ep}` or `/openai/deployments/{name}/{ep}`.
fn openai_endpoint(p: &str) -> &str {
    if let Some((_, ep)) = p
        .strip_prefix("/openai/deployments/")
        .and_then(|r| r.split_once('/'))
    {
        return ep;
    }
    p.strip_prefix("/openai/v1/")
        .or_else(|| p.strip_prefix("/v1/"))
        .or_else(|| p.strip_prefix('/'))
        .unwrap_or(p)
}

pub async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Resp, Infallible> {
    if let Some(p) = req.uri().path().strip_prefix("/_mock/") {
        return Ok(admin(&state, req.method(), p));
    }
    if req.uri().path() == "/health" {
        return Ok(json(200, r#"{"status":"ok"}"#));
    }
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(openai::error(400, "could not read the request body")),
    };
    state
        .rec
        .record(&parts.method, &parts.uri, &parts.headers, &body);
    let (seg, rest) = split_prefix(parts.uri.path());
    let mut knobs = state.defaults.clone();
    if let Some(Err(e)) = seg.map(|s| knobs.apply_path(s)) {
        return Ok(openai::error(400, &e));
    }
    let mut ctx = Ctx {
        knobs,
        rec: state.rec.clone(),
        flight: Some(Flight::new(&state.rec)),
    };
    let resp = match (&parts.method, rest) {
        (&Method::POST, "/v1/chat/completions" | "/chat/completions") => {
            openai::chat(&mut ctx, body).await
        }
        (&Method::POST, "/v1/messages") => anthropic::messages(&mut ctx, body).await,
        (&Method::POST, "/v1/messages/count_tokens") => {
            anthropic::count_tokens(&mut ctx, body).await
        }
        (&Method::POST, p) if p.starts_with("/v1beta/models/") => {
            let rest = &p["/v1beta/models/".len()..];
            match rest.rsplit_once(':') {
                Some((model, "generateContent")) => {
                    gemini::generate(&mut ctx, body, model, false).await
                }
                Some((model, "streamGenerateContent")) => {
                    gemini::generate(&mut ctx, body, model, true).await
                }
                Some((model, "embedContent")) => gemini::embed(&mut ctx, body, model, false).await,
                Some((model, "batchEmbedContents")) => {
                    gemini::embed(&mut ctx, body, model, true).await
                }
                _ => gemini::error(404, "method not found"),
            }
        }
        // Azure OpenAI: /openai/deployments/{deployment}/chat/completions?api-version=...
        (&Method::POST, p)
            if p.starts_with("/openai/deployments/") && p.ends_with("/chat/completions") =>
        {
            openai::chat(&mut ctx, body).await
        }
        (&Method::POST, p) => match openai_endpoint(p) {
            "responses" => responses::create(&mut ctx, body).await,
            "embeddings" => surfaces::embeddings(&mut ctx, body).await,
            "images/generations" => surfaces::images(&mut ctx, body, &state.origin).await,
            "completions" => surfaces::completions(&mut ctx, body).await,
            "moderations" => surfaces::moderations(&mut ctx, body).await,
            _ => openai::invalid_url("POST", p),
        },
        (&Method::GET, "/v1/models" | "/models") => match ctx.gate(openai::error).await {
            Some(r) => r,
            None => openai::models(),
        },
        (&Method::GET, "/health") => match ctx.gate(openai::error).await {
            Some(r) => r,
            None => json(200, r#"{"status":"ok"}"#),
        },
        (m, p) => openai::invalid_url(m.as_str(), p),
    };
    // Reached only if the handler ran to completion (a dropped future skips this, so the flight
    // counts as cancelled); a streamed body took the flight with it.
    if let Some(mut f) = ctx.flight.take() {
        f.finish();
    }
    Ok(resp)
}
