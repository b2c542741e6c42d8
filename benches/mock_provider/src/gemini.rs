//! The Gemini dialect: `POST /v1beta/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`, and Google's error envelope. Shapes follow
//! https://ai.google.dev/api/generate-content and https://ai.google.dev/gemini-api/docs/text-generation.

use crate::body::{End, Step};
use crate::script::{Script, SIGNATURE, THOUGHT};
use crate::server::{self, Ctx, Resp};
use crate::surfaces;
use bytes::Bytes;
use serde_json::{json, Value};
use std::time::Duration;

fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// `{"error":{"code":...,"message":...,"status":...}}`, as Google APIs answer.
pub fn error(status: u16, message: &str) -> Resp {
    let body =
        json!({"error": {"code": status, "message": message, "status": status_name(status)}});
    server::json(status, body.to_string())
}

fn tools_of(req: &Value) -> (Vec<String>, Option<String>) {
    let mut tools = Vec::new();
    for t in req["tools"].as_array().into_iter().flatten() {
        for f in t["functionDeclarations"].as_array().into_iter().flatten() {
            if let Some(n) = f["name"].as_str() {
                tools.push(n.to_owned());
            }
        }
    }
    let cfg = &req["toolConfig"]["functionCallingConfig"];
    let forced = match cfg["mode"].as_str() {
        Some("ANY") => Some(
            cfg["allowedFunctionNames"]
                .as_array()
                .filter(|a| a.len() == 1)
                .and_then(|a| a[0].as_str())
                .unwrap_or("")
                .to_owned(),
        ),
        _ => None,
    };
    (tools, forced)
}

/// `model` is the path's `{model}` (before the `:`); `stream` whether the method was
/// `streamGenerateContent` (`alt=sse` framing).
pub async fn generate(ctx: &mut Ctx, body: Bytes, model: &str, stream: bool) -> Resp {
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return error(400, "Invalid JSON payload received."),
    };
    if !req["contents"].is_array() {
        return error(
            400,
            "* GenerateContentRequest.contents: contents is not specified",
        );
    }
    if let Some(r) = ctx.gate(error).await {
        return r;
    }
    let k = ctx.knobs.clone();
    let (tools, forced) = tools_of(&req);
    let script = Script::new(&k, &tools, forced.as_deref());
    let prompt = body.len().div_ceil(4) as u64 + k.cache_read;
    let visible = script.visible_tokens();
    let mut usage = json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": visible,
        "totalTokenCount": prompt + visible + k.reasoning,
    });
    if k.cache_read > 0 {
        usage["cachedContentTokenCount"] = json!(k.cache_read);
    }
    if k.reasoning > 0 {
        usage["thoughtsTokenCount"] = json!(k.reasoning);
    }
    let finish = k.finish.clone().unwrap_or_else(|| "STOP".into());
    let id = format!("resp-mock-{}", ctx.next_id());
    let thought = json!({"text": THOUGHT, "thought": true, "thoughtSignature": SIGNATURE});
    let calls: Vec<Value> = script
        .calls
        .iter()
        .map(|c| {
            let args: Value = serde_json::from_str(&c.args.concat()).unwrap_or(Value::Null);
            json!({"functionCall": {"name": c.name, "args": args}})
        })
        .collect();
    let candidate = |parts: Vec<Value>, finish: Option<&str>| -> Value {
        let mut c = json!({"content": {"role": "model", "parts": parts}, "index": 0});
        if let Some(f) = finish {
            c["finishReason"] = json!(f);
        }
        c
    };
    let response = |cand: Value, usage: &Value| -> Value {
        json!({"candidates": [cand], "usageMetadata": usage, "modelVersion": model, "responseId": id})
    };

    if !stream {
        let mut parts = Vec::new();
        if script.thinking {
            parts.push(thought.clone());
        }
        if !script.text.is_empty() {
            parts.push(json!({"text": script.text.concat()}));
        }
        parts.extend(calls);
        let mut cand = candidate(parts, Some(&finish));
        if finish == "SAFETY" {
            cand = json!({"finishReason": "SAFETY", "index": 0,
                "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]});
        }
        return ctx.whole(response(cand, &usage).to_string());
    }

    let ev = |v: Value| -> Bytes { format!("data: {v}\r\n\r\n").into() };
    let step = |ms: u64, data: Bytes| Step {
        delay: Duration::from_millis(ms),
        data,
    };
    // Every chunk repeats usageMetadata so far (prompt only until the end), as Gemini streams do.
    let early = json!({"promptTokenCount": prompt, "totalTokenCount": prompt});
    let mut steps = Vec::new();
    let mut first_delay = k.ttft_ms;
    if script.thinking {
        steps.push(step(
            first_delay,
            ev(response(candidate(vec![thought.clone()], None), &early)),
        ));
        first_delay = 0;
    }
    let cut = k.drop_after.or(k.error_event_after).map(|n| n as usize);
    let n = script.text.len();
    for (i, piece) in script.text.iter().enumerate() {
        if cut == Some(i) {
            break;
        }
        let last = i + 1 == n && calls.is_empty();
        let (fin, u) = if last && cut.is_none() {
            (Some(finish.as_str()), &usage)
        } else {
            (None, &early)
        };
        let gap = if i == 0 { first_delay } else { k.interval_ms };
        steps.push(step(
            gap,
            ev(response(candidate(vec![json!({"text": piece})], fin), u)),
        ));
    }
    if !calls.is_empty() && cut.is_none() {
        steps.push(step(
            first_delay,
            ev(response(candidate(calls, Some(&finish)), &usage)),
        ));
    }
    let end = if k.drop_after.is_some() {
        End::Abort
    } else {
        if k.error_event_after.is_some() {
            let err = json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}});
            steps.push(step(0, ev(err)));
        }
        End::Stream
    };
    ctx.stream(steps, end)
}

/// The text of a `Content` (its parts' `text`, concatenated), or `None` if it has no parts list.
fn content_text(content: &Value) -> Option<String> {
    let parts = content["parts"].as_array()?;
    Some(parts.iter().filter_map(|p| p["text"].as_str()).collect())
}

/// `{"values":[...]}` for one `EmbedContentRequest` (same vector as OpenAI's `/v1/embeddings`).
fn embedding(req: &Value) -> Result<Value, String> {
    let text = content_text(&req["content"])
        .ok_or_else(|| "* EmbedContentRequest.content: content is not specified".to_owned())?;
    let dims = surfaces::dims_of(&req["outputDimensionality"], "outputDimensionality")?;
    Ok(json!({"values": surfaces::vector(&text, dims)}))
}

/// `POST /v1beta/models/{model}:embedContent` and `:batchEmbedContents` (`batch`).
pub async fn embed(ctx: &mut Ctx, body: Bytes, model: &str, batch: bool) -> Resp {
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return error(400, "Invalid JSON payload received."),
    };
    if let Some(Value::Object(m)) = req.get("mock") {
        if let Err(e) = ctx.knobs.apply_json(m) {
            return error(400, &e);
        }
    }
    let out = if batch {
        match req["requests"].as_array() {
            Some(rs) if !rs.is_empty() => rs
                .iter()
                .map(|r| match r["model"].as_str() {
                    Some(m) if m.strip_prefix("models/") != Some(model) => Err(format!(
                        "Model {m} in the request does not match the batch's model models/{model}."
                    )),
                    _ => embedding(r),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|e| json!({"embeddings": e})),
            _ => Err("* BatchEmbedContentsRequest.requests: requests is not specified".to_owned()),
        }
    } else {
        embedding(&req).map(|e| json!({"embedding": e}))
    };
    let out = match out {
        Ok(o) => o,
        Err(e) => return error(400, &e),
    };
    if let Some(r) = ctx.gate(error).await {
        return r;
    }
    ctx.whole(out.to_string())
}
