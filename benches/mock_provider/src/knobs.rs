//! Behaviour knobs: CLI defaults, overridden by a `/mock/k=v,k=v` path prefix, overridden by a
//! top-level `"mock": {...}` object in the JSON request body.

use serde_json::Value;

#[derive(Clone, Debug, Default)]
pub struct Knobs {
    /// Delay before the response headers (every API route but /health).
    pub latency_ms: u64,
    /// Streams: headers go out at once, the first chunk after this delay.
    pub ttft_ms: u64,
    /// Number of content chunks (= completion tokens).
    pub chunks: u32,
    /// Streams: gap between content chunks.
    pub interval_ms: u64,
    /// Answer with this HTTP status and the dialect's error envelope (if >= 400).
    pub status: u16,
    /// Seconds, sent as `Retry-After` on an error.
    pub retry_after: Option<u64>,
    /// The `code` of the OpenAI error envelope sent with `status` (e.g. context_length_exceeded).
    pub error_code: Option<String>,
    /// Answer this percentage of requests (spread evenly, by arrival) with a 500 instead.
    pub fail_pct: u8,
    /// Close the TCP connection after N content chunks (non-stream: after half the body).
    pub drop_after: Option<u32>,
    /// Streams: send an error event after N content chunks, then end the stream.
    pub error_event_after: Option<u32>,
    /// Never answer; hold the request until the client goes away.
    pub hang: bool,
    /// Completion text (split into `chunks` pieces) instead of `word0 word1 ...`.
    pub content: Option<String>,
    /// Answer with this many (parallel) tool calls when the request offers tools (a forced tool
    /// choice answers with one call of that tool when this is 0).
    pub tool_calls: u32,
    /// Start the answer with a reasoning block (Anthropic thinking with a signature, Gemini thought).
    pub thinking: bool,
    /// Usage: cache-read, cache-write (5-minute, 1-hour) and reasoning token counts to report.
    pub cache_read: u64,
    pub cache_write: u64,
    pub cache_write_1h: u64,
    pub reasoning: u64,
    /// The dialect's stop/finish reason to report instead of the natural one (e.g. `SAFETY`, `refusal`).
    pub finish: Option<String>,
    /// Streams: every chunk carries `"mock_sent_us":"<16 digits>"`, the wall-clock µs at which the mock
    /// handed it to hyper, so a client on the same machine can time each chunk's relay.
    pub stamp: bool,
}

pub const NAMES: &[&str] = &[
    "latency_ms",
    "ttft_ms",
    "chunks",
    "interval_ms",
    "status",
    "retry_after",
    "error_code",
    "fail_pct",
    "drop_after",
    "error_event_after",
    "hang",
    "content",
    "tool_calls",
    "thinking",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "finish",
    "stamp",
];

fn num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("mock knob '{key}': expected a non-negative integer, got '{v}'"))
}

fn boolean(key: &str, v: &str) -> Result<bool, String> {
    match v {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("mock knob '{key}': expected true/false, got '{v}'")),
    }
}

impl Knobs {
    pub fn with_chunks(chunks: u32) -> Self {
        Knobs {
            chunks,
            status: 200,
            ..Default::default()
        }
    }

    /// Set one knob from its textual form (CLI, path prefix, or a JSON scalar).
    pub fn set(&mut self, key: &str, v: &str) -> Result<(), String> {
        match key {
            "latency_ms" => self.latency_ms = num(key, v)?,
            "ttft_ms" => self.ttft_ms = num(key, v)?,
            "chunks" => self.chunks = num(key, v)?,
            "interval_ms" => self.interval_ms = num(key, v)?,
            "status" => {
                let s: u16 = num(key, v)?;
                if !(100..=599).contains(&s) {
                    return Err(format!("mock knob 'status': {s} is not an HTTP status"));
                }
                self.status = s;
            }
            "retry_after" => self.retry_after = Some(num(key, v)?),
            "error_code" => self.error_code = Some(v.to_owned()),
            "fail_pct" => {
                let p: u8 = num(key, v)?;
                if p > 100 {
                    return Err(format!("mock knob 'fail_pct': expected 0..=100, got {p}"));
                }
                self.fail_pct = p;
            }
            "drop_after" => self.drop_after = Some(num(key, v)?),
            "error_event_after" => self.error_event_after = Some(num(key, v)?),
            "hang" => self.hang = boolean(key, v)?,
            "stamp" => self.stamp = boolean(key, v)?,
            "content" => self.content = Some(v.to_owned()),
            "tool_calls" => self.tool_calls = num(key, v)?,
            "thinking" => self.thinking = matches!(v, "true" | "1" | ""),
            "cache_read" => self.cache_read = num(key, v)?,
            "cache_write" => self.cache_write = num(key, v)?,
            "cache_write_1h" => self.cache_write_1h = num(key, v)?,
            "reasoning" => self.reasoning = num(key, v)?,
            "finish" => self.finish = Some(v.to_owned()),
            _ => {
                return Err(format!(
                    "unknown mock knob '{key}' (known: {})",
                    NAMES.join(", ")
                ))
            }
        }
        Ok(())
    }

    /// Apply `k=v,k=v` from a path segment (values percent-decoded).
    pub fn apply_path(&mut self, seg: &str) -> Result<(), String> {
        for pair in seg.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            self.set(&percent_decode(k), &percent_decode(v))?;
        }
        Ok(())
    }

    /// Apply the body's `"mock": {...}` object.
    pub fn apply_json(&mut self, obj: &serde_json::Map<String, Value>) -> Result<(), String> {
        for (k, v) in obj {
            match v {
                Value::String(s) => self.set(k, s)?,
                Value::Number(n) => self.set(k, &n.to_string())?,
                Value::Bool(b) => self.set(k, if *b { "true" } else { "false" })?,
                _ => {
                    return Err(format!(
                        "mock knob '{k}': expected a string, number or boolean"
                    ))
                }
            }
        }
        Ok(())
    }
}

/// Split `/mock/<knobs>/rest` into (knobs segment, rest). Other paths are returned unchanged.
pub fn split_prefix(path: &str) -> (Option<&str>, &str) {
    match path.strip_prefix("/mock/") {
        Some(rest) => match rest.find('/') {
            Some(i) => (Some(&rest[..i]), &rest[i..]),
            None => (Some(rest), "/"),
        },
        None => (None, path),
    }
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_decode() {
        assert_eq!(
            split_prefix("/mock/status=500/v1/x"),
            (Some("status=500"), "/v1/x")
        );
        assert_eq!(split_prefix("/v1/x"), (None, "/v1/x"));
        let mut k = Knobs::with_chunks(8);
        k.apply_path("status=429,retry_after=3,content=a%20b%2Cc")
            .unwrap();
        assert_eq!(
            (k.status, k.retry_after, k.content.as_deref()),
            (429, Some(3), Some("a b,c"))
        );
        assert!(k.apply_path("nope=1").is_err());
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("x%41"), "xA");
    }
}
