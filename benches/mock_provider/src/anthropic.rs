//! The Anthropic Messages dialect: `POST /v1/messages` (whole and streamed), `POST
//! /v1/messages/count_tokens`, and Anthropic's error envelope. Shapes follow
//! https://docs.anthropic.com/en/api/messages and https://docs.anthropic.com/en/api/messages-streaming.

use crate::body::{End, Step};
use crate::script::{Script, SIGNATURE, THOUGHT};
use crate::server::{self, Ctx, Resp};
use bytes::Bytes;
use serde_json::{json, Value};
use std::time::Duration;

/// `{"type":"error","error":{"type":...,"message":...}}` with the type Anthropic uses for the status.
pub fn error(status: u16, message: &str) -> Resp {
    let kind = match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    server::json(status, body.to_string())
}

fn tools_of(req: &Value) -> (Vec<String>, Option<String>) {
    let tools = req["tools"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let forced = match req["tool_choice"]["type"].as_str() {
        Some("tool") => req["tool_choice"]["name"].as_str().map(str::to_owned),
        Some("any") => Some(String::new()),
        _ => None,
    };
    (tools, forced)
}

fn usage(k: &crate::knobs::Knobs, input: u64, output: u64) -> Value {
    json!({
        "input_tokens": input,
        "cache_creation_input_tokens": k.cache_write + k.cache_write_1h,
        "cache_read_input_tokens": k.cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": k.cache_write, "ephemeral_1h_input_tokens": k.cache_write_1h},
        "output_tokens": output,
        "service_tier": "standard",
    })
}

pub async fn count_tokens(ctx: &mut Ctx, body: Bytes) -> Resp {
    if serde_json::from_slice::<Value>(&body).is_err() {
        return error(400, "invalid JSON body");
    }
    if let Some(r) = ctx.gate(error).await {
        return r;
    }
    server::json(
        200,
        json!({"input_tokens": body.len().div_ceil(4)}).to_string(),
    )
}

pub async fn messages(ctx: &mut Ctx, body: Bytes) -> Resp {
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return error(400, "invalid JSON body"),
    };
    let Some(model) = req["model"].as_str() else {
        return error(400, "model: Field required");
    };
    if !req["max_tokens"].is_u64() {
        return error(400, "max_tokens: Field required");
    }
    if let Some(Value::Object(m)) = req.get("mock") {
        if let Err(e) = ctx.knobs.apply_json(m) {
            return error(400, &e);
        }
    }
    if let Some(r) = ctx.gate(error).await {
        return r;
    }
    let k = ctx.knobs.clone();
    let (tools, forced) = tools_of(&req);
    let script = Script::new(&k, &tools, forced.as_deref());
    let id = format!("msg_mock_{}", ctx.next_id());
    let input = body.len().div_ceil(4) as u64;
    let output = script.visible_tokens() + k.reasoning;
    let natural = if script.calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    let stop = k.finish.clone().unwrap_or_else(|| natural.into());

    if !req["stream"].as_bool().unwrap_or(false) {
        let mut content = Vec::new();
        if script.thinking {
            content.push(json!({"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE}));
        }
        if !script.text.is_empty() {
            content.push(json!({"type": "text", "text": script.text.concat()}));
        }
        for c in &script.calls {
            let input: Value = serde_json::from_str(&c.args.concat()).unwrap_or(Value::Null);
            content.push(json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}));
        }
        let out = json!({
            "id": id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop, "stop_sequence": null, "usage": usage(&k, input, output),
        });
        return ctx.whole(out.to_string());
    }

    let ev =
        |name: &str, data: Value| -> Bytes { format!("event: {name}\ndata: {data}\n\n").into() };
    let step = |ms: u64, data: Bytes| Step {
        delay: Duration::from_millis(ms),
        data,
    };
    let mut steps = Vec::new();
    // message_start carries the preliminary usage: output_tokens 1, the final count comes in message_delta.
    let start = json!({"type": "message_start", "message": {
        "id": id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": null, "stop_sequence": null, "usage": usage(&k, input, 1)}});
    steps.push(step(k.ttft_ms, ev("message_start", start)));
    steps.push(step(0, ev("ping", json!({"type": "ping"}))));
    let mut index = 0;
    let mut block = |steps: &mut Vec<Step>, first: Value, deltas: Vec<Value>| {
        steps.push(step(
            0,
            ev(
                "content_block_start",
                json!({"type": "content_block_start", "index": index, "content_block": first}),
            ),
        ));
        for d in deltas {
            steps.push(step(
                k.interval_ms,
                ev(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index, "delta": d}),
                ),
            ));
        }
        steps.push(step(
            0,
            ev(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}),
            ),
        ));
        index += 1;
    };
    if script.thinking {
        block(
            &mut steps,
            json!({"type": "thinking", "thinking": ""}),
            vec![
                json!({"type": "thinking_delta", "thinking": THOUGHT}),
                json!({"type": "signature_delta", "signature": SIGNATURE}),
            ],
        );
    }
    let cut = k.drop_after.or(k.error_event_after).map(|n| n as usize);
    let mut pieces = script
        .text
        .iter()
        .map(|p| json!({"type": "text_delta", "text": p}))
        .collect::<Vec<_>>();
    if let Some(n) = cut {
        pieces.truncate(n);
    }
    if !script.text.is_empty() {
        block(&mut steps, json!({"type": "text", "text": ""}), pieces);
    }
    for c in &script.calls {
        let deltas = c
            .args
            .iter()
            .map(|a| json!({"type": "input_json_delta", "partial_json": a}))
            .collect();
        block(
            &mut steps,
            json!({"type": "tool_use", "id": c.id, "name": c.name, "input": {}}),
            deltas,
        );
    }
    let end = if k.drop_after.is_some() {
        steps.pop(); // no content_block_stop either: the connection just ends
        End::Abort
    } else if k.error_event_after.is_some() {
        steps.pop();
        let err = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        steps.push(step(0, ev("error", err)));
        End::Stream
    } else {
        let delta = json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
            "usage": usage(&k, input, output)});
        steps.push(step(0, ev("message_delta", delta)));
        steps.push(step(0, ev("message_stop", json!({"type": "message_stop"}))));
        End::Stream
    };
    ctx.stream(steps, end)
}
