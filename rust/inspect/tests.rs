//! Unit tests of the pure-Rust cores; the property tests against the Python reference live in
//! `tests/core/test_inspect.py`.
use super::request::count_markers;
use super::*;

fn ok(body: &str) -> Inspection {
    inspect(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"))
}

fn err(body: &str) -> BodyError {
    inspect(body.as_bytes()).expect_err(body)
}

fn rw(body: &str, model: &str, usage: bool) -> String {
    String::from_utf8(rewrite(body.as_bytes(), model, usage).unwrap()).unwrap()
}

#[test]
fn basic_fields() {
    let i = ok(
        r#"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},
        "max_tokens":100,"n":2,"messages":[{"role":"system","content":"Be brief."},
        {"role":"user","content":"Hello"}],"tools":[{"type":"function"}],"response_format":{"type":"json_object"}}"#,
    );
    assert_eq!(i.model.as_deref(), Some("gpt-4o"));
    assert!(i.stream && i.include_usage && i.has_tools && i.has_response_format && !i.has_images);
    assert_eq!(
        (i.max_tokens, i.n, i.messages),
        (Some(100), Some(2), Some(2))
    );
    assert_eq!((i.text_len, i.last_user_len), (14, 5));
}

#[test]
fn defaults_and_absent_keys() {
    let i = ok("{}");
    assert_eq!(i, Inspection::default());
    assert_eq!(i.messages, None);
    assert_eq!(ok(r#"{"messages":[]}"#).messages, Some(0));
    let i = ok(
        r#"{"model":"m","stream":null,"max_tokens":null,"n":null,"tools":null,"stream_options":null,
        "response_format":null,"functions":[]}"#,
    );
    assert!(!i.stream && !i.has_tools && !i.has_response_format && !i.include_usage);
    assert_eq!((i.max_tokens, i.n), (None, None));
}

#[test]
fn max_completion_tokens_wins_unless_null() {
    assert_eq!(
        ok(r#"{"max_completion_tokens":7,"max_tokens":9}"#).max_tokens,
        Some(7)
    );
    assert_eq!(
        ok(r#"{"max_tokens":9,"max_completion_tokens":7}"#).max_tokens,
        Some(7)
    );
    assert_eq!(
        ok(r#"{"max_tokens":9,"max_completion_tokens":null}"#).max_tokens,
        Some(9)
    );
    assert_eq!(ok(r#"{"max_tokens":-3}"#).max_tokens, Some(-3));
}

#[test]
fn legacy_functions_count_as_tools() {
    assert!(ok(r#"{"functions":[{"name":"f"}]}"#).has_tools);
    assert!(!ok(r#"{"tools":[ ]}"#).has_tools);
    assert!(!ok(r#"{"functions":{"name":"f"}}"#).has_tools); // not checked, not counted
}

#[test]
fn escapes_in_strings() {
    // \" \\ \/ \u00e9 and a surrogate pair (U+1F600): one code point each.
    let i = ok(
        r#"{"model":"a\"b\\c\/d\u00e9\ud83d\ude00","messages":[{"role":"user","content":"\"\\\u00e9\ud83d\ude00\n"}]}"#,
    );
    assert_eq!(i.model.as_deref(), Some("a\"b\\c/d\u{e9}\u{1F600}"));
    assert_eq!(i.text_len, 5);
    assert_eq!(i.last_user_len, 5);
    // A lone surrogate is accepted (as Python's json does) and counts as one code point.
    let i = ok(r#"{"model":"x\ud800","messages":[{"role":"user","content":"\udc00a\ud83d"}]}"#);
    assert_eq!(i.model.as_deref(), Some("x\u{FFFD}"));
    assert_eq!(i.text_len, 3);
    // Raw UTF-8 counts code points, not bytes.
    assert_eq!(
        ok(r#"{"messages":[{"role":"user","content":"héllo 世界 😀"}]}"#).text_len,
        10
    );
}

#[test]
fn escaped_keys_and_values_are_decoded() {
    let i = ok(
        r#"{"mod\u0065l":"m","messages":[{"r\u006fle":"\u0075ser","content":[{"typ\u0065":"te\u0078t","text":"abc"},{"type":"image\u005furl"}]}]}"#,
    );
    assert_eq!(i.model.as_deref(), Some("m"));
    assert_eq!((i.text_len, i.last_user_len), (3, 3));
    assert!(i.has_images);
}

#[test]
fn nested_model_keys_are_not_the_model() {
    let body = r#"{"messages":[{"role":"user","content":"x","model":"inner"}],"metadata":{"model":"meta"},
        "extra":[{"model":"arr"}],"model":"outer"}"#;
    assert_eq!(ok(body).model.as_deref(), Some("outer"));
    let out = rw(body, "new", false);
    assert_eq!(out, body.replace(r#""model":"outer""#, r#""model":"new""#));
    assert_eq!(ok(r#"{"metadata":{"model":"meta"}}"#).model, None);
}

#[test]
fn whitespace_everywhere() {
    let body = " \n\t{ \"model\" \r\n:\t\"m\" , \"messages\" : [ { \"role\" : \"user\" , \"content\" : [ { \"type\" : \"text\" , \"text\" : \"hi\" } ] } ] , \"stream\" : true } \n";
    let i = ok(body);
    assert_eq!(i.model.as_deref(), Some("m"));
    assert!(i.stream);
    assert_eq!((i.messages, i.text_len), (Some(1), 2));
    assert_eq!(rw(body, "x", false), body.replace("\"m\"", "\"x\""));
}

#[test]
fn content_parts_key_order_and_kinds() {
    let i = ok(r#"{"messages":[
        {"role":"user","content":[{"text":"abcd","type":"text"},{"type":"input_image","image_url":"x"},
                                  {"type":"input_audio","text":"ignored"},{"type":"text","text":null}]},
        {"role":"assistant","content":null},
        {"role":"tool","content":"12345"}]}"#);
    assert_eq!((i.text_len, i.last_user_len, i.messages), (9, 4, Some(3)));
    assert!(i.has_images);
}

#[test]
fn duplicate_keys_take_the_last_value() {
    let i = ok(
        r#"{"model":"a","model":"b","messages":[{"role":"user","content":"long text","content":"x"}]}"#,
    );
    assert_eq!(i.model.as_deref(), Some("b"));
    assert_eq!(i.text_len, 1);
    let i = ok(r#"{"messages":[{"role":"user","content":"abc"}],"messages":[]}"#);
    assert_eq!((i.messages, i.text_len), (Some(0), 0));
    // ...but every occurrence is type-checked.
    assert_eq!(
        err(r#"{"model":1,"model":"b"}"#).param.as_deref(),
        Some("model")
    );
}

#[test]
fn code_blocks_and_markers() {
    let text =
        "Think step by step. ```py\nx\n``` and ```unclosed. PROVE it; Reasoning: analyse, ANALYZE";
    let body = format!(
        r#"{{"messages":[{{"role":"user","content":{}}}]}}"#,
        json(text)
    );
    let i = ok(&body);
    assert_eq!(i.code_blocks, 1);
    assert_eq!(i.reasoning_markers, 6);
    // Leftmost-first and non-overlapping: the second "step by step" overlaps the first.
    assert_eq!(count_markers(b"step by step by step"), 1);
    assert_eq!(count_markers(b"steprove"), 1); // "prove" alone
    assert_eq!(count_markers(b"step by steprove"), 1);
    assert_eq!(count_markers(b"thinkthink reasonderive"), 4);
    // Fences are counted across texts, then halved.
    let i =
        ok(r#"{"messages":[{"role":"user","content":"```a"},{"role":"user","content":"b```"}]}"#);
    assert_eq!(i.code_blocks, 1);
    assert_eq!(
        ok(r#"{"messages":[{"role":"user","content":"``````"}]}"#).code_blocks,
        1
    );
    // Case-insensitive in ASCII only: the Kelvin sign is not a `k`.
    assert_eq!(count_markers("thin\u{212A}".as_bytes()), 0);
}

fn json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn invalid_json_offsets() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "unexpected end of input"),
        ("   ", 3, "unexpected end of input"),
        (r#"{"model": }"#, 10, "expected value"),
        (r#"{"model":"gp"#, 12, "unexpected end of input"),
        (r#"{"a":1,}"#, 7, "expected string key"),
        (r#"{"a" 1}"#, 5, "expected ':'"),
        (r#"{"a":1 "b":2}"#, 7, "expected ',' or '}'"),
        (r#"{"a":[1 2]}"#, 8, "expected ',' or ']'"),
        (r#"{"a":01}"#, 6, "expected ',' or '}'"),
        (r#"{"a":1.}"#, 7, "invalid number"),
        (r#"{"a":-}"#, 6, "invalid number"),
        (r#"{"a":1e}"#, 7, "invalid number"),
        (r#"{"a":tru}"#, 5, "expected value"),
        (r#"{"a":tr"#, 7, "unexpected end of input"),
        (r#"{"a":"\x"}"#, 6, "invalid escape"),
        (r#"{"a":"\u12g4"}"#, 6, "invalid \\u escape"),
        ("{\"a\":\"x\ty\"}", 7, "control character in string"),
        (r#"{"a":NaN}"#, 5, "expected value"),
        (r#"{} {}"#, 3, "unexpected data after the JSON value"),
        (r#"{"a":1}}"#, 7, "unexpected data after the JSON value"),
        (r#"{"a":[[[{"b":[}]]]}"#, 14, "expected value"),
    ];
    for &(body, offset, what) in cases {
        for e in [err(body), rewrite(body.as_bytes(), "m", true).unwrap_err()] {
            assert_eq!(e.kind, ErrorKind::InvalidJson, "{body}");
            assert_eq!(e.offset, offset, "{body}: {e}");
            assert_eq!(
                e.message,
                format!("Request body is not valid JSON: {what} at byte {offset}")
            );
            assert_eq!(e.param, None);
        }
    }
}

#[test]
fn invalid_utf8() {
    let e = inspect(b"{\"a\":\"\xff\"}").unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::InvalidJson, 6));
    let e = inspect(b"{\"a\":\"ok\xc3\xa9\xed\xa0\x80\"}").unwrap_err(); // an encoded surrogate
    assert_eq!((e.kind, e.offset), (ErrorKind::InvalidJson, 10));
    let e = inspect(b"{\"a\":\"\xc3").unwrap_err(); // truncated inside a character
    assert_eq!((e.kind, e.offset), (ErrorKind::InvalidJson, 7));
    let e = inspect(b"{\"a\":\xc3\xa9}").unwrap_err(); // non-ASCII outside a string
    assert_eq!((e.kind, e.offset), (ErrorKind::InvalidJson, 5));
}

#[test]
fn truncation_is_reported_at_the_end() {
    let body = r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a\u00e9"}]}],"n":1}"#;
    for cut in 0..body.len() {
        let e = err(&body[..cut]);
        assert_eq!(
            (e.kind, e.offset),
            (ErrorKind::InvalidJson, cut),
            "{}",
            &body[..cut]
        );
    }
}

#[test]
fn not_object() {
    for (body, got) in [
        ("[1,2]", "an array"),
        (" \"s\"", "a string"),
        ("12", "an integer"),
        ("1.5", "a decimal"),
        ("null", "null"),
        ("true", "a boolean"),
    ] {
        let e = err(body);
        assert_eq!(e.kind, ErrorKind::NotObject, "{body}");
        assert_eq!(e.offset, body.len() - body.trim_start().len());
        assert_eq!(
            e.message,
            format!("Request body must be a JSON object, but got {got} instead.")
        );
        assert_eq!(rewrite(body.as_bytes(), "m", false).unwrap_err(), e);
    }
    // Invalid JSON wins over not-an-object.
    assert_eq!(err("[1,").kind, ErrorKind::InvalidJson);
}

#[test]
fn invalid_types_with_param_and_offset() {
    let cases: &[(&str, &str, usize, &str, &str)] = &[
        (r#"{"model":12}"#, "model", 9, "a string", "an integer"),
        (r#"{"model":null}"#, "model", 9, "a string", "null"),
        (
            r#"{"messages":{}}"#,
            "messages",
            12,
            "an array",
            "an object",
        ),
        (r#"{"messages":null}"#, "messages", 12, "an array", "null"),
        (
            r#"{"messages":[{"role":"user"},"hi"]}"#,
            "messages[1]",
            29,
            "an object",
            "a string",
        ),
        (
            r#"{"messages":[{"role":"user"},{"role":1}]}"#,
            "messages[1].role",
            37,
            "a string",
            "an integer",
        ),
        (
            r#"{"messages":[{"role":"user","content":{"a":1}}]}"#,
            "messages[0].content",
            38,
            "one of a string or array of objects",
            "an object",
        ),
        (
            r#"{"messages":[{"role":"user","content":7.5}]}"#,
            "messages[0].content",
            38,
            "one of a string or array of objects",
            "a decimal",
        ),
        (
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":"a"},"b"]}]}"#,
            "messages[0].content[1]",
            66,
            "an object",
            "a string",
        ),
        (r#"{"stream":"yes"}"#, "stream", 10, "a boolean", "a string"),
        (r#"{"stream":1}"#, "stream", 10, "a boolean", "an integer"),
        (
            r#"{"max_tokens":1.0}"#,
            "max_tokens",
            14,
            "an integer",
            "a decimal",
        ),
        (
            r#"{"max_tokens":1e3}"#,
            "max_tokens",
            14,
            "an integer",
            "a decimal",
        ),
        (
            r#"{"max_completion_tokens":true}"#,
            "max_completion_tokens",
            25,
            "an integer",
            "a boolean",
        ),
        (r#"{"n":"2"}"#, "n", 5, "an integer", "a string"),
        (
            r#"{"stream_options":true}"#,
            "stream_options",
            18,
            "an object",
            "a boolean",
        ),
        (
            r#"{"stream_options":[]}"#,
            "stream_options",
            18,
            "an object",
            "an array",
        ),
        (r#"{"tools":{}}"#, "tools", 9, "an array", "an object"),
    ];
    for &(body, param, offset, expected, got) in cases {
        let e = err(body);
        assert_eq!(e.kind, ErrorKind::InvalidType, "{body}");
        assert_eq!(
            (e.param.as_deref(), e.offset),
            (Some(param), offset),
            "{body}"
        );
        assert_eq!(
            e.message,
            format!("Invalid type for '{param}': expected {expected}, but got {got} instead.")
        );
    }
    let e = err(r#"{"messages":[{"role":"user","content":1}]}"#);
    assert_eq!(e.message, "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an integer instead.");
}

#[test]
fn missing_role_and_out_of_range() {
    let e = err(r#"{"messages":[{"role":"user"}, {"content":"x"}]}"#);
    assert_eq!(e.kind, ErrorKind::MissingParam);
    assert_eq!(
        (e.param.as_deref(), e.offset),
        (Some("messages[1].role"), 30)
    );
    assert_eq!(e.message, "Missing required parameter: 'messages[1].role'.");
    let e = err(r#"{"max_tokens":9223372036854775808}"#);
    assert_eq!(e.kind, ErrorKind::InvalidValue);
    assert_eq!((e.param.as_deref(), e.offset), (Some("max_tokens"), 14));
    assert_eq!(ok(r#"{"n":-9223372036854775808}"#).n, Some(i64::MIN));
}

#[test]
fn first_type_error_wins_but_invalid_json_beats_it() {
    let e = err(r#"{"model":1,"stream":"x"}"#);
    assert_eq!(e.param.as_deref(), Some("model"));
    let e = err(r#"{"model":1,"stream":"x""#);
    assert_eq!((e.kind, e.offset), (ErrorKind::InvalidJson, 23));
}

#[test]
fn rewrite_replaces_only_the_model_value() {
    let body = r#"{ "a" : 1.50E+3, "model" : "old\"x" , "z":[null,{"model":"keep"}] }"#;
    assert_eq!(
        rw(body, "new", false),
        r#"{ "a" : 1.50E+3, "model" : "new" , "z":[null,{"model":"keep"}] }"#
    );
    // Any value type is replaced; every duplicate is replaced.
    assert_eq!(
        rw(r#"{"model":{"x":[1]},"model":null}"#, "m", false),
        r#"{"model":"m","model":"m"}"#
    );
    // Escaping matches json.dumps(ensure_ascii=False).
    assert_eq!(
        rw(r#"{"model":""}"#, "a\"b\\c\n\u{1}é😀\u{7f}", false),
        "{\"model\":\"a\\\"b\\\\c\\n\\u0001é😀\u{7f}\"}"
    );
}

#[test]
fn rewrite_inserts_a_missing_model() {
    assert_eq!(rw("{}", "m", false), r#"{"model":"m"}"#);
    assert_eq!(rw(" { } ", "m", false), r#" {"model":"m" } "#);
    assert_eq!(rw(r#"{"a":1}"#, "m", false), r#"{"model":"m","a":1}"#);
    assert_eq!(
        rw("{\n  \"a\": 1\n}", "m", false),
        "{\"model\":\"m\",\n  \"a\": 1\n}"
    );
}

#[test]
fn rewrite_include_usage() {
    let u = |b: &str| rw(b, "m", true);
    assert_eq!(
        u("{}"),
        r#"{"model":"m","stream_options":{"include_usage":true}}"#
    );
    assert_eq!(
        u(r#"{"model":"x","stream":true}"#),
        r#"{"stream_options":{"include_usage":true},"model":"m","stream":true}"#
    );
    assert_eq!(
        u(r#"{"model":"x","stream_options":null}"#),
        r#"{"model":"m","stream_options":{"include_usage":true}}"#
    );
    assert_eq!(
        u(r#"{"model":"x","stream_options":{}}"#),
        r#"{"model":"m","stream_options":{"include_usage":true}}"#
    );
    assert_eq!(
        u(r#"{"model":"x","stream_options":{ "a":1 }}"#),
        r#"{"model":"m","stream_options":{"include_usage":true, "a":1 }}"#
    );
    assert_eq!(
        u(r#"{"model":"x","stream_options":{"include_usage": false}}"#),
        r#"{"model":"m","stream_options":{"include_usage": true}}"#
    );
    assert_eq!(
        u(r#"{"model":"x","stream_options":{"include_usage":null,"include_usage":true}}"#),
        r#"{"model":"m","stream_options":{"include_usage":true,"include_usage":true}}"#
    );
    // Already true: only the model changes.
    let body = r#"{"stream_options" : { "include_usage" : true } , "model":"x"}"#;
    assert_eq!(u(body), body.replace("\"x\"", "\"m\""));
    // Without include_usage, stream_options is not even looked at.
    assert_eq!(
        rw(r#"{"model":"x","stream_options":7}"#, "m", false),
        r#"{"model":"m","stream_options":7}"#
    );
    let e = rewrite(br#"{"model":"x","stream_options":7}"#, "m", true).unwrap_err();
    assert_eq!(
        (e.kind, e.param.as_deref(), e.offset),
        (ErrorKind::InvalidType, Some("stream_options"), 30)
    );
}

#[test]
fn deep_nesting_uses_no_stack() {
    let depth = 200_000;
    let body = format!(r#"{{"x":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
    assert_eq!(ok(&body).model, None);
    assert_eq!(rw(&body, "m", false).len(), body.len() + 12);
}

#[test]
fn long_strings_cross_the_word_loop() {
    // Quotes, escapes and non-ASCII at every alignment of the 8-byte fast path.
    for pad in 0..17 {
        let p = "a".repeat(pad);
        let body = format!(
            r#"{{"messages":[{{"role":"user","content":"{p}\"{p}é{p}\n{p}"}}],"model":"{p}"}}"#
        );
        let i = ok(&body);
        assert_eq!(i.text_len, 4 * pad + 3, "{body}");
        assert_eq!(i.model.as_deref(), Some(p.as_str()));
        let bad = format!("{{\"a\":\"{p}\u{1}\"}}");
        assert_eq!(err(&bad).offset, 6 + pad);
    }
}

/// A small deterministic fuzz loop (the real `cargo fuzz` target would live in fuzz/): mutate valid
/// bodies byte by byte and check that nothing panics, that JSON validity agrees with serde_json, and
/// that a rewritten body inspects to the new model.
#[test]
fn mutations_never_panic_and_agree_with_serde_json() {
    let seeds = [
        r#"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Think: ```a``` \u00e9\ud83d\ude00"},{"type":"image_url","image_url":{"url":"x"}}]}],"stream":true,"stream_options":{"include_usage":false},"max_tokens":12,"n":1,"tools":[{"a":[1.5e3,-0,null,true]}]}"#,
        r#" { "messages" : [ { "content" : "x\n\"y\"" , "role" : "assistant" } ] , "stream_options" : null } "#,
        "{}",
    ];
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let alphabet = b" \t\n\"\\{}[]:,-+.0123456789eEtrufalsnu/\x00\x1f\x7f\x80\xc3\xa9\xed\xff";
    let (mut agreed, mut valid) = (0, 0);
    for round in 0..60_000 {
        let mut b = seeds[round % seeds.len()].as_bytes().to_vec();
        for _ in 0..1 + next() % 3 {
            let at = (next() % (b.len() as u64 + 1)) as usize;
            let byte = alphabet[(next() % alphabet.len() as u64) as usize];
            match next() % 3 {
                0 => b.insert(at, byte),
                1 if at < b.len() => drop(b.remove(at)),
                _ if at < b.len() => b[at] = byte,
                _ => {}
            }
        }
        let ours = inspect(&b);
        let rewritten = rewrite(&b, "m\"x", true);
        fn json_ok<T>(r: &std::result::Result<T, BodyError>) -> bool {
            r.as_ref()
                .err()
                .is_none_or(|e| e.kind != ErrorKind::InvalidJson)
        }
        assert_eq!(
            json_ok(&ours),
            json_ok(&rewritten),
            "{}",
            String::from_utf8_lossy(&b)
        );
        // serde_json does not check UTF-8 inside values it ignores, so it judges only UTF-8 bodies; any
        // other body cannot be JSON (non-ASCII may only appear, as valid UTF-8, inside strings).
        let Ok(text) = std::str::from_utf8(&b) else {
            assert!(!json_ok(&ours), "{}", String::from_utf8_lossy(&b));
            continue;
        };
        let serde = serde_json::from_str::<serde::de::IgnoredAny>(text);
        // serde_json rejects lone surrogate escapes, which Python's json (and this scanner) accept.
        if !matches!(&serde, Err(e) if e.to_string().contains("surrogate")) {
            assert_eq!(json_ok(&ours), serde.is_ok(), "{text}");
            agreed += 1;
            valid += usize::from(serde.is_ok());
        }
        if let (Ok(out), Ok(_)) = (rewritten, ours) {
            let again = inspect(&out).unwrap();
            assert_eq!(
                (again.model.as_deref(), again.include_usage),
                (Some("m\"x"), true)
            );
        }
    }
    assert!(
        agreed > 40_000 && valid > 5_000,
        "{agreed} judged, {valid} valid"
    );
}
