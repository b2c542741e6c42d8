//! Request recording and counters (`/_mock/requests`, `/_mock/stats`), and the `Flight` guard that
//! detects responses abandoned by the client.

use bytes::Bytes;
use hyper::{HeaderMap, Method};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

struct Record {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

pub struct Recorder {
    cap: usize,
    log: Mutex<VecDeque<Record>>,
    pub requests: AtomicU64,
    pub streams_started: AtomicU64,
    pub streams_completed: AtomicU64,
    pub cancelled: AtomicU64,
    pub in_flight: AtomicI64,
    pub ids: AtomicU64,
    /// Requests that reached the knob gate with `fail_pct` set (drives its even spread).
    pub gated: AtomicU64,
}

impl Recorder {
    pub fn new(cap: usize) -> Self {
        Recorder {
            cap,
            log: Mutex::new(VecDeque::with_capacity(cap.min(1024))),
            requests: AtomicU64::new(0),
            streams_started: AtomicU64::new(0),
            streams_completed: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
            ids: AtomicU64::new(0),
            gated: AtomicU64::new(0),
        }
    }

    /// Count a request and keep it (the body is a refcounted `Bytes`, not a copy).
    pub fn record(&self, method: &Method, uri: &hyper::Uri, headers: &HeaderMap, body: &Bytes) {
        self.requests.fetch_add(1, Relaxed);
        if self.cap == 0 {
            return;
        }
        let rec = Record {
            method: method.clone(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            headers: headers.clone(),
            body: body.clone(),
        };
        let mut log = self.log.lock().unwrap();
        if log.len() >= self.cap {
            log.pop_front();
        }
        log.push_back(rec);
    }

    pub fn requests_json(&self) -> Vec<u8> {
        let log = self.log.lock().unwrap();
        let arr: Vec<Value> = log
            .iter()
            .map(|r| {
                let mut h = Map::new();
                for (name, value) in &r.headers {
                    let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    match h.get_mut(name.as_str()) {
                        Some(Value::String(prev)) => {
                            prev.push_str(", ");
                            prev.push_str(&v);
                        }
                        _ => {
                            h.insert(name.as_str().to_owned(), Value::String(v));
                        }
                    }
                }
                json!({
                    "method": r.method.as_str(),
                    "path": r.path,
                    "query": r.query,
                    "headers": h,
                    "body": String::from_utf8_lossy(&r.body),
                })
            })
            .collect();
        serde_json::to_vec(&arr).unwrap_or_default()
    }

    pub fn stats_json(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "requests": self.requests.load(Relaxed),
            "streams_started": self.streams_started.load(Relaxed),
            "streams_completed": self.streams_completed.load(Relaxed),
            "cancelled": self.cancelled.load(Relaxed),
            "in_flight": self.in_flight.load(Relaxed),
        }))
        .unwrap_or_default()
    }

    /// Clear the log and reset the counters (`in_flight` is live state and is kept).
    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
        for c in [
            &self.requests,
            &self.streams_started,
            &self.streams_completed,
            &self.cancelled,
        ] {
            c.store(0, Relaxed);
        }
    }
}

/// Lives as long as the mock is working on a response: first inside the handler future, then (for
/// streamed/paced bodies) inside the body. Dropped before `finish()` means hyper dropped the future or
/// the body because the client went away: that is a cancellation.
pub struct Flight {
    rec: Arc<Recorder>,
    done: bool,
}

impl Flight {
    pub fn new(rec: &Arc<Recorder>) -> Self {
        rec.in_flight.fetch_add(1, Relaxed);
        Flight {
            rec: rec.clone(),
            done: false,
        }
    }

    pub fn finish(&mut self) {
        self.done = true;
    }

    pub fn stream_started(&self) {
        self.rec.streams_started.fetch_add(1, Relaxed);
    }

    pub fn stream_completed(&mut self) {
        if !self.done {
            self.rec.streams_completed.fetch_add(1, Relaxed);
        }
        self.done = true;
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        self.rec.in_flight.fetch_sub(1, Relaxed);
        if !self.done {
            self.rec.cancelled.fetch_add(1, Relaxed);
        }
    }
}
