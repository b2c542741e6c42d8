//! The OpenAI chat-completions dialect: request scan, whole and streamed responses, error envelope.

use crate::body::{End, Step};
use crate::script::{Script, THOUGHT};
use crate::server::{self, Ctx, Resp};
use bytes::Bytes;
use serde::Deserialize;
use std::borrow::Cow;
use std::time::Duration;

/// The error event an OpenAI-style stream ends with (`error_event_after`).
pub const STREAM_ERROR: &[u8] =
    b"data: {\"error\":{\"message\":\"mock stream error\",\"type\":\"server_error\",\"code\":\"mock\"}}\n\n";

#[derive(Deserialize)]
struct ChatReq<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    stream: Option<bool>,
    stream_options: Option<StreamOptions>,
    mock: Option<serde_json::Map<String, serde_json::Value>>,
    tools: Option<Vec<ToolDef>>,
    tool_choice: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ToolDef {
    function: FunctionName,
}

#[derive(Deserialize)]
struct FunctionName {
    name: String,
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

fn usage(p: u64, c: u64, cached: u64, reasoning: u64) -> String {
    format!(
        r#"{{"prompt_tokens":{p},"completion_tokens":{c},"total_tokens":{},"prompt_tokens_details":{{"cached_tokens":{cached}}},"completion_tokens_details":{{"reasoning_tokens":{reasoning}}}}}"#,
        p + c
    )
}

/// The request's tools and its forced tool (`Some("")`: "required"), for the answer script.
fn tools_of(req: &ChatReq) -> (Vec<String>, Option<String>) {
    let tools = req
        .tools
        .as_ref()
        .map(|t| t.iter().map(|t| t.function.name.clone()).collect())
        .unwrap_or_default();
    let forced = match &req.tool_choice {
        Some(serde_json::Value::String(s)) if s == "required" => Some(String::new()),
        Some(serde_json::Value::Object(o)) => o
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_owned),
        _ => None,
    };
    (tools, forced)
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
        .as_ref()
        .and_then(|o| o.include_usage)
        .unwrap_or(false);

    if let Some(r) = ctx.gate(error).await {
        return r;
    }
    let id = ctx.next_id();
    let created = server::now();
    let (tools, forced) = tools_of(&req);
    let script = Script::new(&ctx.knobs, &tools, forced.as_deref());
    let pieces = &script.text;
    let k = &ctx.knobs;
    let prompt_tokens = body.len().div_ceil(4) as u64 + k.cache_read;
    let usage = usage(
        prompt_tokens,
        script.visible_tokens() + k.reasoning,
        k.cache_read,
        k.reasoning,
    );
    let finish = k.finish.clone().unwrap_or_else(|| {
        if script.calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        }
        .into()
    });
    let call_json = |i: usize, c: &crate::script::Call, args: &str| {
        format!(
            r#"{{"index":{i},"id":{},"type":"function","function":{{"name":{},"arguments":{}}}}}"#,
            js(&c.id),
            js(&c.name),
            js(args)
        )
    };

    if !stream {
        let content = if script.calls.is_empty() {
            js(&pieces.concat())
        } else {
            "null".into()
        };
        let mut extra = String::new();
        if !script.calls.is_empty() {
            let calls: Vec<String> = script
                .calls
                .iter()
                .enumerate()
                .map(|(i, c)| call_json(i, c, &c.args.concat()))
                .collect();
            extra = format!(r#","tool_calls":[{}]"#, calls.join(","));
        }
        if script.thinking {
            extra.push_str(&format!(r#","reasoning_content":{}"#, js(THOUGHT)));
        }
        let out = format!(
            r#"{{"id":"chatcmpl-mock-{id}","object":"chat.completion","created":{created},"model":{model},"choices":[{{"index":0,"message":{{"role":"assistant","content":{content},"refusal":null{extra}}},"logprobs":null,"finish_reason":{}}}],"usage":{usage},"system_fingerprint":"fp_mock"}}"#,
            js(&finish)
        );
        return ctx.whole(out);
    }

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
    if script.thinking {
        steps.push(step(
            0,
            chunk(
                &format!(r#"{{"reasoning_content":{}}}"#, js(THOUGHT)),
                "null",
            ),
        ));
    }
    for (i, c) in script.calls.iter().enumerate() {
        for (j, a) in c.args.iter().enumerate() {
            let call = if j == 0 {
                call_json(i, c, a)
            } else {
                format!(r#"{{"index":{i},"function":{{"arguments":{}}}}}"#, js(a))
            };
            steps.push(step(
                k.interval_ms,
                chunk(&format!(r#"{{"tool_calls":[{call}]}}"#), "null"),
            ));
        }
    }
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
        steps.push(step(0, Bytes::from_static(crate::openai::STREAM_ERROR)));
        End::Stream
    } else {
        steps.push(step(0, chunk("{}", &js(&finish))));
        if include_usage {
            // `head` ends in `"choices":[`, so this is `"choices":[],"usage":{...}`.
            steps.push(step(0, format!("{head}],\"usage\":{usage}}}\n\n").into()));
        }
        steps.push(step(0, Bytes::from_static(b"data: [DONE]\n\n")));
        End::Stream
    };
    ctx.stream(steps, end)
}
