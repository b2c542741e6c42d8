//! The OpenAI Responses API: `POST /v1/responses`, whole (a `response` object) or streamed (typed SSE
//! events, each with `event:` + `data:` lines and an increasing `sequence_number`, no `[DONE]`).
//! Shapes follow the `Response` and `ResponseStreamEvent` schemas of OpenAI's OpenAPI description.

use crate::body::{End, Step};
use crate::openai::error;
use crate::script::{Script, THOUGHT};
use crate::server::{self, Ctx, Resp};
use bytes::Bytes;
use serde_json::{json, Value};
use std::time::Duration;

/// The function tools the request offers (names, in order), the tool its `tool_choice` forces
/// (`Some("")`: "required") and whether tool calls are off (`tool_choice: "none"`).
fn tools_of(req: &Value) -> (Vec<String>, Option<String>, bool) {
    let tools = req["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["type"] == "function")
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    let tc = &req["tool_choice"];
    let forced = match tc.as_str() {
        Some("required") => Some(String::new()),
        _ if tc["type"] == "function" => tc["name"].as_str().map(str::to_owned),
        _ => None,
    };
    (tools, forced, tc == "none")
}

/// Whether the last input item hands a tool result back (then the model answers in text).
fn answers_tool_output(req: &Value) -> bool {
    req["input"]
        .as_array()
        .and_then(|a| a.last())
        .is_some_and(|i| i["type"] == "function_call_output")
}

/// The request's tools as the API echoes them: function tools with `strict`, `parameters` and
/// `description` filled in.
fn echo_tools(req: &Value) -> Value {
    let tools = req["tools"].as_array().cloned().unwrap_or_default();
    let tools = tools
        .into_iter()
        .map(|mut t| {
            if t["type"] == "function" {
                if let Value::Object(o) = &mut t {
                    o.entry("description").or_insert(Value::Null);
                    o.entry("parameters").or_insert(Value::Null);
                    o.entry("strict").or_insert(Value::Bool(true));
                }
            }
            t
        })
        .collect();
    Value::Array(tools)
}

/// `req[key]` when the request set it, else `default`.
fn or(req: &Value, key: &str, default: Value) -> Value {
    match req.get(key) {
        Some(v) if !v.is_null() => v.clone(),
        _ => default,
    }
}

struct Plan<'a> {
    req: &'a Value,
    id: String,
    model: &'a str,
    created: u64,
}

impl Plan<'_> {
    /// The `response` object with this status, output and usage; the request's settings echoed.
    fn response(
        &self,
        status: &str,
        output: Vec<Value>,
        usage: Value,
        incomplete: &Value,
    ) -> Value {
        let req = self.req;
        let reasoning = match req.get("reasoning") {
            Some(Value::Object(r)) => json!({
                "effort": r.get("effort").cloned().unwrap_or(Value::Null),
                "summary": r.get("summary").cloned().unwrap_or(Value::Null),
            }),
            _ => json!({"effort": null, "summary": null}),
        };
        let mut out = json!({
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "background": false,
            "completed_at": if status == "completed" { json!(self.created) } else { Value::Null },
            "error": null,
            "incomplete_details": incomplete,
            "instructions": or(req, "instructions", Value::Null),
            "max_output_tokens": or(req, "max_output_tokens", Value::Null),
            "max_tool_calls": or(req, "max_tool_calls", Value::Null),
            "model": self.model,
            "output": output,
            "parallel_tool_calls": or(req, "parallel_tool_calls", json!(true)),
            "previous_response_id": or(req, "previous_response_id", Value::Null),
            "prompt_cache_key": or(req, "prompt_cache_key", Value::Null),
            "reasoning": reasoning,
            "safety_identifier": or(req, "safety_identifier", Value::Null),
            "service_tier": "default",
            "store": or(req, "store", json!(true)),
            "temperature": or(req, "temperature", json!(1.0)),
            "text": or(req, "text", json!({"format": {"type": "text"}, "verbosity": "medium"})),
            "tool_choice": or(req, "tool_choice", json!("auto")),
            "tools": echo_tools(req),
            "top_logprobs": or(req, "top_logprobs", json!(0)),
            "top_p": or(req, "top_p", json!(1.0)),
            "truncation": or(req, "truncation", json!("disabled")),
            "usage": usage,
            "metadata": or(req, "metadata", json!({})),
        });
        // The API answers `"usage": null` while in progress and `"user": null` when unset, but the
        // published schema types them as an object and a string: both are left out then.
        if usage.is_null() {
            out.as_object_mut().map(|o| o.remove("usage"));
        }
        if let Some(u @ Value::String(_)) = req.get("user") {
            out["user"] = u.clone();
        }
        out
    }
}

/// One stream event to send after `delay` ms; `delta` marks the content deltas that
/// `drop_after` / `error_event_after` count.
struct Ev {
    delay: u64,
    data: Value,
    delta: bool,
}

fn ev(delay: u64, data: Value) -> Ev {
    Ev {
        delay,
        data,
        delta: false,
    }
}

/// `event: <type>` + `data: <json>` with the sequence number (and the `stamp` placeholder).
fn frame(mut data: Value, seq: u64, stamp: bool) -> Bytes {
    data["sequence_number"] = json!(seq);
    if stamp {
        data["mock_sent_us"] = json!("0000000000000000");
    }
    let kind = data["type"].as_str().unwrap_or("").to_owned();
    format!("event: {kind}\ndata: {data}\n\n").into()
}

pub async fn create(ctx: &mut Ctx, body: Bytes) -> Resp {
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return error(400, "The request body must be a JSON object."),
        Err(e) => {
            return error(
                400,
                &format!("We could not parse the JSON body of your request: {e}"),
            )
        }
    };
    if let Some(Value::Object(m)) = req.get("mock") {
        if let Err(e) = ctx.knobs.apply_json(m) {
            return error(400, &e);
        }
    }
    let Some(model) = req["model"].as_str() else {
        return error(400, "Missing required parameter: 'model'.");
    };
    if let Some(r) = ctx.gate(error).await {
        return r;
    }
    let k = ctx.knobs.clone();
    let n = ctx.next_id();
    let plan = Plan {
        req: &req,
        id: format!("resp_mock_{n}"),
        model,
        created: server::now(),
    };
    let (tools, forced, none) = tools_of(&req);
    let call = !tools.is_empty() && !none && !answers_tool_output(&req);
    let script = if call {
        // A function tool on offer is always called: `tool_calls` parallel calls, at least one.
        Script::new(&k, &tools, Some(forced.as_deref().unwrap_or("")))
    } else {
        Script::new(&k, &[], None)
    };
    let input = body.len().div_ceil(4) as u64 + k.cache_read;
    let output_tokens = script.visible_tokens() + k.reasoning;
    let usage = json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": k.cache_read, "cache_write_tokens": k.cache_write + k.cache_write_1h},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": k.reasoning},
        "total_tokens": input + output_tokens,
    });
    // `finish=max_output_tokens` / `finish=content_filter`: an incomplete response.
    let incomplete = match k.finish.as_deref() {
        Some(r @ ("max_output_tokens" | "content_filter")) => json!({"reason": r}),
        _ => Value::Null,
    };
    let (status, item_status) = if incomplete.is_null() {
        ("completed", "completed")
    } else {
        ("incomplete", "incomplete")
    };

    // The finished output items.
    let rs_id = format!("rs_mock_{n}");
    let msg_id = format!("msg_mock_{n}");
    let text = script.text.concat();
    let text_part =
        |t: &str| json!({"type": "output_text", "text": t, "annotations": [], "logprobs": []});
    let reasoning_item =
        |summary: Value| json!({"id": rs_id, "type": "reasoning", "summary": summary});
    let summary_part = |t: &str| json!({"type": "summary_text", "text": t});
    let message_item = |status: &str, content: Vec<Value>| json!({"id": msg_id, "type": "message", "status": status, "role": "assistant", "content": content});
    let call_item = |i: usize, c: &crate::script::Call, status: &str, args: &str| {
        json!({"id": format!("fc_mock_{n}_{i}"), "type": "function_call", "status": status,
            "arguments": args, "call_id": c.id, "name": c.name})
    };
    let mut output = Vec::new();
    if script.thinking {
        output.push(reasoning_item(json!([summary_part(THOUGHT)])));
    }
    if call {
        for (i, c) in script.calls.iter().enumerate() {
            output.push(call_item(i, c, item_status, &c.args.concat()));
        }
    } else {
        output.push(message_item(item_status, vec![text_part(&text)]));
    }

    if !req["stream"].as_bool().unwrap_or(false) {
        let out = plan.response(status, output, usage, &incomplete);
        return ctx.whole(out.to_string());
    }

    let pending = plan.response("in_progress", Vec::new(), Value::Null, &Value::Null);
    let mut evs = vec![
        ev(
            k.ttft_ms,
            json!({"type": "response.created", "response": pending}),
        ),
        ev(
            0,
            json!({"type": "response.in_progress", "response": pending}),
        ),
    ];
    let mut index = 0;
    let added = |index: usize, item: Value| {
        ev(
            0,
            json!({"type": "response.output_item.added", "output_index": index, "item": item}),
        )
    };
    let done = |index: usize, item: &Value| {
        ev(
            0,
            json!({"type": "response.output_item.done", "output_index": index, "item": item}),
        )
    };
    if script.thinking {
        let at = |kind: &str| json!({"type": kind, "item_id": rs_id, "output_index": index, "summary_index": 0});
        evs.push(added(index, reasoning_item(json!([]))));
        let mut e = at("response.reasoning_summary_part.added");
        e["part"] = summary_part("");
        evs.push(ev(0, e));
        let mut e = at("response.reasoning_summary_text.delta");
        e["delta"] = json!(THOUGHT);
        evs.push(ev(0, e));
        let mut e = at("response.reasoning_summary_text.done");
        e["text"] = json!(THOUGHT);
        evs.push(ev(0, e));
        let mut e = at("response.reasoning_summary_part.done");
        e["part"] = summary_part(THOUGHT);
        evs.push(ev(0, e));
        evs.push(done(index, &output[index]));
        index += 1;
    }
    if call {
        for (i, c) in script.calls.iter().enumerate() {
            let item_id = format!("fc_mock_{n}_{i}");
            evs.push(added(index, call_item(i, c, "in_progress", "")));
            for a in &c.args {
                evs.push(Ev {
                    delay: k.interval_ms,
                    data: json!({"type": "response.function_call_arguments.delta", "item_id": item_id,
                        "output_index": index, "delta": a}),
                    delta: true,
                });
            }
            evs.push(ev(
                0,
                json!({"type": "response.function_call_arguments.done", "item_id": item_id,
                    "name": c.name, "output_index": index, "arguments": c.args.concat()}),
            ));
            evs.push(done(index, &output[index]));
            index += 1;
        }
    } else {
        let at = |kind: &str| json!({"type": kind, "item_id": msg_id, "output_index": index, "content_index": 0});
        evs.push(added(index, message_item("in_progress", Vec::new())));
        let mut e = at("response.content_part.added");
        e["part"] = text_part("");
        evs.push(ev(0, e));
        for (i, piece) in script.text.iter().enumerate() {
            let mut e = at("response.output_text.delta");
            e["delta"] = json!(piece);
            e["logprobs"] = json!([]);
            evs.push(Ev {
                delay: if i == 0 { 0 } else { k.interval_ms },
                data: e,
                delta: true,
            });
        }
        let mut e = at("response.output_text.done");
        e["text"] = json!(text);
        e["logprobs"] = json!([]);
        evs.push(ev(0, e));
        let mut e = at("response.content_part.done");
        e["part"] = text_part(&text);
        evs.push(ev(0, e));
        evs.push(done(index, &output[index]));
    }
    let last = if incomplete.is_null() {
        "response.completed"
    } else {
        "response.incomplete"
    };
    let fin = plan.response(status, output, usage, &incomplete);
    evs.push(ev(0, json!({"type": last, "response": fin})));

    // `drop_after` / `error_event_after`: stop before content delta number N (text or arguments), or
    // (N at least the number of deltas) right after the last one, like the chat stream.
    let positions: Vec<usize> = (0..evs.len()).filter(|&i| evs[i].delta).collect();
    let stop = k
        .drop_after
        .or(k.error_event_after)
        .map(|c| match positions.get(c as usize) {
            Some(&at) => at,
            None => positions.last().map_or(evs.len() - 1, |&at| at + 1),
        });
    evs.truncate(stop.unwrap_or(evs.len()));
    let mut steps: Vec<Step> = evs
        .into_iter()
        .enumerate()
        .map(|(seq, e)| Step {
            delay: Duration::from_millis(e.delay),
            data: frame(e.data, seq as u64, k.stamp),
        })
        .collect();
    let end = if k.drop_after.is_some() {
        End::Abort
    } else {
        if k.error_event_after.is_some() {
            let seq = steps.len() as u64;
            let err = json!({"type": "error", "code": "server_error", "message": "mock stream error", "param": null});
            steps.push(Step {
                delay: Duration::ZERO,
                data: frame(err, seq, k.stamp),
            });
        }
        End::Stream
    };
    ctx.stream(steps, end)
}
