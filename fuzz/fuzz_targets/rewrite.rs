//! `inspect::rewrite` (rewrite_model's core) on arbitrary bytes, with serde_json as the oracle (see
//! `common::oracle`):
//! - never panics; succeeds (without include_usage) on every JSON object, in particular on every
//!   body inspect accepts; fails with `invalid_json` on what is not JSON and `not_object` on other
//!   JSON values;
//! - the output parses as an object whose `model` is "m" and whose other members equal the
//!   original's; with include_usage, `stream_options.include_usage` is also true and the other
//!   members of `stream_options` are unchanged (a wrong-typed `stream_options` is the one error);
//! - it is idempotent (rewriting the output again changes nothing), and `inspect` of the output is
//!   `inspect` of the input with `model` = "m" (and `include_usage` = true);
//! - rewriting to the body's own `model` string (any text the fuzzer made, so every escape of
//!   `json_string`) reads back as that string.
#![no_main]

mod common;

use _core::inspect::{inspect, rewrite, ErrorKind};
use common::Oracle;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fn without(v: &Value, key: &str) -> Map<String, Value> {
    let mut m = v.as_object().unwrap().clone();
    m.remove(key);
    m
}

fuzz_target!(|body: &[u8]| {
    let inspected = inspect(body);
    let original = match common::oracle(body) {
        Oracle::Json(v) => v,
        Oracle::Limit => {
            // No oracle: it must merely not panic, and agree with inspect on acceptance.
            let r = rewrite(body, "m", false);
            if inspected.is_ok() {
                assert!(r.is_ok(), "inspect accepts what rewrite rejects: {r:?}");
            }
            let _ = rewrite(body, "m", true);
            return;
        }
        Oracle::Invalid(e) => {
            for include_usage in [false, true] {
                let r = rewrite(body, "m", include_usage);
                assert_eq!(
                    r.as_ref().err().map(|e| e.kind),
                    Some(ErrorKind::InvalidJson),
                    "serde_json rejects this ({e}) but rewrite gave {r:?}"
                );
            }
            return;
        }
    };
    for include_usage in [false, true] {
        let out = match rewrite(body, "m", include_usage) {
            Ok(out) => out,
            Err(e) => {
                if original.is_object() {
                    assert!(include_usage, "rewrite rejected an object: {e:?}");
                    assert_eq!(e.kind, ErrorKind::InvalidType, "{e:?}");
                    assert_eq!(e.param.as_deref(), Some("stream_options"), "{e:?}");
                } else {
                    assert_eq!(e.kind, ErrorKind::NotObject, "{e:?}");
                }
                continue;
            }
        };
        assert!(original.is_object(), "rewrite accepted a non-object");
        let v = match common::oracle(&out) {
            Oracle::Json(v) => v,
            _ => panic!(
                "rewrite output is not JSON: {:?}",
                String::from_utf8_lossy(&out)
            ),
        };
        assert_eq!(
            v.get("model"),
            Some(&Value::String("m".into())),
            "model not rewritten"
        );
        if include_usage {
            let opts = v.get("stream_options").expect("no stream_options");
            assert_eq!(
                opts.get("include_usage"),
                Some(&Value::Bool(true)),
                "include_usage not set"
            );
            let before = match original.get("stream_options") {
                Some(o @ Value::Object(_)) => without(o, "include_usage"),
                _ => Map::new(),
            };
            assert_eq!(
                without(opts, "include_usage"),
                before,
                "stream_options' other members changed"
            );
            let (a, mut b) = (without(&v, "model"), without(&original, "model"));
            b.insert("stream_options".into(), opts.clone());
            assert_eq!(a, b, "other members changed");
        } else {
            assert_eq!(
                without(&v, "model"),
                without(&original, "model"),
                "other members changed"
            );
        }
        assert_eq!(
            rewrite(&out, "m", include_usage).as_deref(),
            Ok(&out[..]),
            "not idempotent"
        );
        if let Ok(mut i) = inspected.clone() {
            i.model = Some("m".into());
            i.include_usage |= include_usage;
            assert_eq!(
                inspect(&out),
                Ok(i),
                "inspect(rewrite(body)) != inspect(body) with the edits"
            );
        }
    }
    // The new model's escaping (`json_string`): any fuzzer-made string, here the body's own model
    // (control characters, quotes, backslashes, non-ASCII), must read back as itself.
    if let Some(Value::String(model)) = original.get("model") {
        let out = rewrite(body, model, false).expect("rewrite rejected an object");
        let v = match common::oracle(&out) {
            Oracle::Json(v) => v,
            _ => panic!(
                "rewrite output is not JSON: {:?}",
                String::from_utf8_lossy(&out)
            ),
        };
        assert_eq!(
            v.get("model"),
            original.get("model"),
            "the model did not read back as itself"
        );
        assert_eq!(
            without(&v, "model"),
            without(&original, "model"),
            "other members changed"
        );
    }
});
