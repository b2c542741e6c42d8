//! The OpenAI chat-completions dialect: request scan, whole and streamed responses, error envelope.

use crate::body::{End, Step};
use crate::server::{self, Ctx, Resp};
use bytes::Bytes;
use serde::Deserialize;
use std::borrow::Cow;
use std::time::Duration;

#[derive(Deserialize)]
struct ChatReq<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    stream: Option<bool>,
    stream_options: Option<StreamOptions>,
    mock: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct StreamOptions {
    include_usage: Option<bool>,
}

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// `{"error":{...}}` shaped like OpenAI's, with a type/code that fits the status.
pub fn error(status: u16, message: &str) -> Resp {
    envelope(status, message, None)
}

/// An OpenAI error envelope with the given `code` (the `error_code` knob).
pub fn error_with_code(status: u16, message: &str, code: &str) -> Resp {
    envelope(status, message, Some(&js(code)))
}

/// What OpenAI answers for a path it does not serve.
pub fn invalid_url(method: &str, path: &str) -> Resp {
    envelope(404, &format!("Invalid URL ({method} {path})"), Some("null"))
}

fn envelope(status: u16, message: &str, code: Option<&str>) -> Resp {
    let (kind, default_code) = match status {
        401 => ("invalid_request_error", "\"invalid_api_key\""),
        403 => ("permission_error", "null"),
        404 => ("invalid_request_error", "\"model_not_found\""),
        429 => ("requests", "\"rate_limit_exceeded\""),
        s if s >= 500 => ("server_error", "null"),
        _ => ("invalid_request_error", "null"),
    };
    let code = code.unwrap_or(default_code);
    let body = format!(
        r#"{{"error":{{"message":{},"type":"{kind}","param":null,"code":{code}}}}}"#,
        js(message)
    );
    server::json(status, body)
}

pub fn models() -> Resp {
    let body = format!(
        r#"{{"object":"list","data":[{{"id":"mock-model","object":"model","created":{},"owned_by":"mock"}}]}}"#,
        server::now()
    );
    server::json(200, body)
}

fn usage(p: u64, c: u64) -> String {
    format!(
        r#"{{"prompt_tokens":{p},"completion_tokens":{c},"total_tokens":{},"prompt_tokens_details":{{"cached_tokens":0}},"completion_tokens_details":{{"reasoning_tokens":0}}}}"#,
        p + c
    )
}

pub async fn chat(ctx: &mut Ctx, body: Bytes) -> Resp {
    let req: ChatReq = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                400,
                &format!("We could not parse the JSON body of your request: {e}"),
            )
        }
    };
    if let Some(m) = &req.mock {
        if let Err(e) = ctx.knobs.apply_json(m) {
            return error(400, &e);
        }
    }
    let Some(model) = req.model.as_deref() else {
        return error(400, "you must provide a model parameter");
    };
    let model = js(model);
    let stream = req.stream.unwrap_or(false);
    let include_usage = req
        .stream_options
        .and_then(|o| o.include_usage)
        .unwrap_or(false);

    if let Some(r) = ctx.gate(error).await {
        return r;
    }
    let id = ctx.next_id();
    let created = server::now();
    let pieces = server::pieces(&ctx.knobs);
    let prompt_tokens = body.len().div_ceil(4) as u64;
    let usage = usage(prompt_tokens, pieces.len() as u64);

    if !stream {
        let content: String = pieces.concat();
        let out = format!(
            r#"{{"id":"chatcmpl-mock-{id}","object":"chat.completion","created":{created},"model":{model},"choices":[{{"index":0,"message":{{"role":"assistant","content":{},"refusal":null}},"logprobs":null,"finish_reason":"stop"}}],"usage":{usage},"system_fingerprint":"fp_mock"}}"#,
            js(&content)
        );
        return ctx.whole(out);
    }

    let k = &ctx.knobs;
    // With `stamp`, the placeholder is overwritten with the send time as each chunk goes out (body.rs).
    let stamp = if k.stamp {
        crate::body::STAMP_FIELD
    } else {
        ""
    };
    let head = format!(
        r#"data: {{"id":"chatcmpl-mock-{id}","object":"chat.completion.chunk","created":{created},"model":{model},"system_fingerprint":"fp_mock",{stamp}"choices":["#
    );
    let tail = if include_usage {
        r#"],"usage":null}"#
    } else {
        "]}"
    };
    let chunk = |delta: &str, finish: &str| -> Bytes {
        let mut s = format!(
            r#"{head}{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":{finish}}}{tail}"#
        );
        s.push_str("\n\n");
        s.into()
    };
    let step = |ms: u64, data: Bytes| Step {
        delay: Duration::from_millis(ms),
        data,
    };

    let mut steps = Vec::with_capacity(pieces.len() + 4);
    steps.push(step(
        k.ttft_ms,
        chunk(r#"{"role":"assistant","content":""}"#, "null"),
    ));
    let cut = k.drop_after.or(k.error_event_after).map(|n| n as usize);
    for (i, piece) in pieces.iter().enumerate() {
        if cut == Some(i) {
            break;
        }
        let gap = if i == 0 { 0 } else { k.interval_ms };
        steps.push(step(
            gap,
            chunk(&format!(r#"{{"content":{}}}"#, js(piece)), "null"),
        ));
    }
    let end = if k.drop_after.is_some() {
        End::Abort
    } else if k.error_event_after.is_some() {
        steps.push(step(
            0,
            Bytes::from_static(
                b"data: {\"error\":{\"message\":\"mock stream error\",\"type\":\"server_error\",\"code\":\"mock\"}}\n\n",
            ),
        ));
        End::Stream
    } else {
        steps.push(step(0, chunk("{}", "\"stop\"")));
        if include_usage {
            // `head` ends in `"choices":[`, so this is `"choices":[],"usage":{...}`.
            steps.push(step(0, format!("{head}],\"usage\":{usage}}}\n\n").into()));
        }
        steps.push(step(0, Bytes::from_static(b"data: [DONE]\n\n")));
        End::Stream
    };
    ctx.stream(steps, end)
}
