//! `sse::Tap` (ChatStreamTap's core), with usage stripping off and on, on arbitrary bytes fed in
//! fuzzer-chosen chunks (see `common::split`):
//! - the output of every feed lies inside its chunk (`Output::Slice`), `pending()` is what `finish()`
//!   returns, and chunked output and state equal those of the whole stream fed at once;
//! - stripping off: the concatenated output plus `finish()` is the input, byte for byte;
//! - stripping on: it is the input's complete blocks, in order, less some, plus the incomplete rest;
//!   each dropped block dispatches a JSON object with a non-null top-level `usage` and `choices: []`;
//!   and where the tap's documented shortcuts cannot matter (see `comparable`) exactly those blocks
//!   are dropped;
//! - `events()` and `done()` agree with `sse::Parser` on the same stream; `usage()` and `error()`
//!   with a serde_json reading of the events (same proviso as above).
#![no_main]

mod common;

use _core::sse::{Event, Output, Parser, Tap};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct Run {
    out: Vec<u8>,
    usage: Option<Vec<u8>>,
    error: Option<Vec<u8>>,
    done: bool,
    events: u64,
}

fn run(strip: bool, chunks: &[&[u8]]) -> Run {
    let mut tap = Tap::new(strip);
    let mut out = Vec::new();
    for c in chunks {
        match tap.feed(c) {
            Output::Slice(r) => {
                assert!(
                    r.start <= r.end && r.end <= c.len(),
                    "slice {r:?} outside a chunk of {}",
                    c.len()
                );
                out.extend_from_slice(&c[r]);
            }
            Output::Owned => out.extend_from_slice(tap.out()),
        }
    }
    let pending = tap.pending();
    let rest = tap.finish();
    assert_eq!(
        rest.len(),
        pending,
        "pending() is not what finish() returned"
    );
    assert_eq!(tap.pending(), 0, "pending() after finish()");
    out.extend_from_slice(&rest);
    Run {
        out,
        usage: tap.usage().map(<[u8]>::to_vec),
        error: tap.error().map(<[u8]>::to_vec),
        done: tap.done(),
        events: tap.events(),
    }
}

/// Whether the tap's reading of an event's data must agree with serde_json's: not so when its
/// documented shortcuts can matter (keys spelled with `\` escapes escape the literal-key pre-filter;
/// serde derive rejects a duplicated `usage`/`choices`/`error`) or serde_json hits one of its own
/// limits (numbers beyond f64, nesting depth, lone surrogates), which the tap (like Python) does not.
///
/// Invalid UTF-8 is not JSON to either side: the tap checks it before parsing (a divergence this
/// target found, fixed).
fn comparable(data: &[u8]) -> bool {
    if data.contains(&b'\\') {
        return false;
    }
    match common::oracle(data) {
        common::Oracle::Limit => false,
        common::Oracle::Invalid(_) => true,
        common::Oracle::Json(v) => !v.is_object() || common::unique_keys(data),
    }
}

fn json_object(data: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(data)
        .ok()
        .filter(Value::is_object)
}

fuzz_target!(|input: &[u8]| {
    let split = common::split(input);
    let stream = split.stream;
    let chunks = split.chunks();

    let mut parser = Parser::new();
    let mut events: Vec<Event> = Vec::new();
    parser.feed(stream, &mut events);
    let (blocks, rest) = common::split_blocks(stream);
    let dispatched: Vec<&[u8]> = blocks.iter().filter_map(|(_, d)| d.as_deref()).collect();
    assert_eq!(
        dispatched.len(),
        events.len(),
        "block splitter and parser disagree"
    );
    let done = events.iter().any(|e| e.data.starts_with("[DONE]"));

    // The serde_json reading of each block's data, once: (comparable, strippable, object).
    let info: Vec<Option<(bool, bool, Option<Value>)>> = blocks
        .iter()
        .map(|(_, d)| {
            d.as_deref().map(|d| {
                let obj = if d.starts_with(b"[DONE]") {
                    None
                } else {
                    json_object(d)
                };
                let strip = obj.as_ref().is_some_and(|v| {
                    common::non_null(v, "usage").is_some()
                        && v.get("choices") == Some(&Value::Array(vec![]))
                });
                (comparable(d), strip, obj)
            })
        })
        .collect();
    let all_comparable = info.iter().flatten().all(|(c, _, _)| *c);

    // usage: the last non-null top-level `usage`; error: the first event with a non-null `error`.
    let mut ref_usage = None;
    let mut ref_error = None;
    for ((_, d), i) in blocks.iter().zip(&info) {
        if let (Some(d), Some((_, _, Some(v)))) = (d, i) {
            if let Some(u) = common::non_null(v, "usage") {
                ref_usage = Some(u.clone());
            }
            if ref_error.is_none() && common::non_null(v, "error").is_some() {
                ref_error = Some(d.clone());
            }
        }
    }

    for strip in [false, true] {
        let whole = run(strip, &[stream]);
        let chunked = run(strip, &chunks);
        assert!(
            chunked.out == whole.out,
            "chunking changed the output (strip={strip})"
        );
        assert_eq!(
            chunked.usage, whole.usage,
            "chunking changed usage (strip={strip})"
        );
        assert_eq!(
            chunked.error, whole.error,
            "chunking changed error (strip={strip})"
        );
        assert_eq!(
            chunked.done, whole.done,
            "chunking changed done (strip={strip})"
        );
        assert_eq!(
            chunked.events, whole.events,
            "chunking changed events (strip={strip})"
        );

        assert_eq!(
            whole.events,
            events.len() as u64,
            "events() != the parser's event count"
        );
        assert_eq!(
            whole.done, done,
            "done() disagrees with the parser's events"
        );

        if !strip {
            assert!(
                whole.out == stream,
                "output + finish() is not the input with stripping off"
            );
        } else {
            // A subsequence of whole blocks, then the rest; every dropped block is a usage chunk.
            // Greedy matching is exact: a dropped block followed by a kept one it is a prefix of
            // would have the same data, and the tap decides on the data alone.
            let out = &whole.out[..];
            let mut pos = 0;
            let mut expected = Vec::new();
            for ((raw, _), i) in blocks.iter().zip(&info) {
                if out[pos..].starts_with(raw) {
                    pos += raw.len();
                } else {
                    let Some((comparable, strippable, _)) = i else {
                        panic!(
                            "a block without data was dropped: {:?}",
                            String::from_utf8_lossy(raw)
                        )
                    };
                    assert!(
                        *strippable || !comparable,
                        "a dropped block is not a usage chunk: {:?}",
                        String::from_utf8_lossy(raw)
                    );
                }
                if !i.as_ref().is_some_and(|(_, s, _)| *s) {
                    expected.extend_from_slice(raw);
                }
            }
            assert!(
                &out[pos..] == rest,
                "output is not whole blocks followed by the incomplete rest"
            );
            if all_comparable {
                expected.extend_from_slice(rest);
                assert!(
                    whole.out == expected,
                    "stripped a different set of blocks than the reference"
                );
            }
        }

        if all_comparable {
            let got_usage = whole
                .usage
                .as_deref()
                .map(|u| serde_json::from_slice::<Value>(u).expect("usage() is not JSON"));
            assert_eq!(got_usage, ref_usage, "usage() differs from the reference");
            assert_eq!(whole.error, ref_error, "error() differs from the reference");
        }
    }
});
