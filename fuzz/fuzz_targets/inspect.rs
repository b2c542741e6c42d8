//! `inspect::inspect` on arbitrary bytes, against serde_json as the JSON oracle:
//! - never panics; an error's offset lies within the body;
//! - serde_json accepts the bytes as an object => no `invalid_json`/`not_object`; as another JSON
//!   value => `not_object`; rejects them => `invalid_json` (see `common::oracle` for the two
//!   documented differences bridged first: lone surrogate escapes, serde_json's own limits);
//! - when inspect succeeds and serde_json parsed the body, every field of the `Inspection` equals
//!   what the module docs define, computed from the `serde_json::Value` (last duplicate wins, as
//!   in `tests/core/inspect_reference.py`), with a plain aho-corasick automaton standing in for
//!   the packed (Teddy) searcher.
#![no_main]

mod common;

use _core::inspect::{inspect, ErrorKind, Inspection, MARKERS};
use aho_corasick::{AhoCorasick, MatchKind};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::OnceLock;

fn markers() -> &'static AhoCorasick {
    static AC: OnceLock<AhoCorasick> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(MARKERS)
            .unwrap()
    })
}

#[derive(Default)]
struct Text {
    len: usize,
    fences: usize,
    markers: usize,
}

fn measure(s: &str, t: &mut Text) -> usize {
    let len = s.chars().count();
    t.len += len;
    t.fences += s.matches("```").count();
    t.markers += markers().find_iter(s).count();
    len
}

/// The `Inspection` the module docs define, read off a parsed body inspect accepted.
fn expected(v: &Value) -> Inspection {
    let non_empty = |key: &str| {
        v.get(key)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    let mut out = Inspection {
        model: v.get("model").and_then(Value::as_str).map(str::to_owned),
        user: v.get("user").and_then(Value::as_str).map(str::to_owned),
        stream: v.get("stream") == Some(&Value::Bool(true)),
        include_usage: v.get("stream_options").and_then(|o| o.get("include_usage"))
            == Some(&Value::Bool(true)),
        // Compared as f64 below (serde_json reads `-0` as a float).
        max_tokens: None,
        n: None,
        messages: v.get("messages").and_then(Value::as_array).map(Vec::len),
        has_tools: non_empty("tools") || non_empty("functions"),
        has_response_format: common::non_null(v, "response_format").is_some(),
        ..Inspection::default()
    };
    let mut text = Text::default();
    for m in v
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut len = 0;
        match m.get("content") {
            Some(Value::String(s)) => len = measure(s, &mut text),
            Some(Value::Array(parts)) => {
                for p in parts {
                    match p.get("type").and_then(Value::as_str) {
                        Some("text") => {
                            if let Some(s) = p.get("text").and_then(Value::as_str) {
                                len += measure(s, &mut text);
                            }
                        }
                        Some("image_url" | "input_image") => out.has_images = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if m.get("role").and_then(Value::as_str) == Some("user") {
            out.last_user_len = len;
        }
    }
    out.text_len = text.len;
    out.code_blocks = text.fences / 2;
    out.reasoning_markers = text.markers;
    out
}

fuzz_target!(|body: &[u8]| {
    let got = inspect(body);
    if let Err(e) = &got {
        assert!(
            e.offset <= body.len(),
            "error offset {} past the body ({} bytes): {e:?}",
            e.offset,
            body.len()
        );
    }
    let kind = got.as_ref().err().map(|e| e.kind);
    match common::oracle(body) {
        common::Oracle::Json(v) if v.is_object() => {
            assert!(
                !matches!(kind, Some(ErrorKind::InvalidJson | ErrorKind::NotObject)),
                "serde_json accepts this object but inspect says {got:?}"
            );
            if let Ok(i) = &got {
                let want = expected(&v);
                let num = |key: &str| common::non_null(&v, key).map(|n| n.as_f64().unwrap());
                let max = num("max_completion_tokens").or_else(|| num("max_tokens"));
                assert_eq!(i.max_tokens.map(|x| x as f64), max, "max_tokens");
                assert_eq!(i.n.map(|x| x as f64), num("n"), "n");
                let i = Inspection {
                    max_tokens: None,
                    n: None,
                    ..i.clone()
                };
                assert_eq!(i, want, "inspect disagrees with the serde_json reading");
            }
        }
        common::Oracle::Json(_) => {
            assert_eq!(
                kind,
                Some(ErrorKind::NotObject),
                "a JSON non-object: {got:?}"
            )
        }
        common::Oracle::Invalid(e) => assert_eq!(
            kind,
            Some(ErrorKind::InvalidJson),
            "serde_json rejects this ({e}) but inspect says {got:?}"
        ),
        common::Oracle::Limit => {}
    }
});
