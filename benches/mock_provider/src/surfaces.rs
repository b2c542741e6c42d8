//! OpenAI's other surfaces: `POST /v1/embeddings`, `/v1/images/generations`, `/v1/completions`
//! (legacy text completions, whole and streamed) and `/v1/moderations`, plus the deterministic
//! embedding vector the Gemini embed methods share. Shapes follow OpenAI's OpenAPI description
//! (`CreateEmbeddingResponse`, `ImagesResponse`, `CreateCompletionResponse`, `CreateModerationResponse`).

use crate::body::{End, Step};
use crate::openai::error;
use crate::server::{self, Ctx, Resp};
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// Default embedding length when the request sets no `dimensions` / `outputDimensionality`.
pub const DEFAULT_DIMS: usize = 8;
const MAX_DIMS: u64 = 65536;

/// A 1x1 transparent RGBA PNG: every generated image.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0xe9, 0xfa, 0xdc, 0xd8, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The embedding of `text`: component j is `((splitmix64(fnv1a64(text) + j) >> 40) - 2^23) / 2^23`
/// (wrapping u64 arithmetic), a multiple of 2^-23 in [-1, 1), exact in f32 and f64. Not normalised.
pub fn vector(text: &str, dims: usize) -> Vec<f64> {
    let seed = fnv1a64(text.as_bytes());
    (0..dims as u64)
        .map(|j| {
            let top = (splitmix64(seed.wrapping_add(j)) >> 40) as f64;
            (top - 8_388_608.0) / 8_388_608.0
        })
        .collect()
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A dimensions field: absent = the default, else an integer in 1..=65536.
pub fn dims_of(v: &Value, field: &str) -> Result<usize, String> {
    match v {
        Value::Null => Ok(DEFAULT_DIMS),
        v => match v.as_u64() {
            Some(d @ 1..=MAX_DIMS) => Ok(d as usize),
            _ => Err(format!(
                "Invalid '{field}': expected an integer between 1 and {MAX_DIMS}."
            )),
        },
    }
}

fn parse(body: &Bytes) -> Result<Value, String> {
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("The request body must be a JSON object.".into()),
        Err(e) => Err(format!(
            "We could not parse the JSON body of your request: {e}"
        )),
    }
}

/// Parse the body, apply its `"mock"` knobs, check `required` fields, then the knob gate.
async fn open(ctx: &mut Ctx, body: &Bytes, required: &[&str]) -> Result<Value, Resp> {
    let req = parse(body).map_err(|e| error(400, &e))?;
    if let Some(Value::Object(m)) = req.get("mock") {
        ctx.knobs.apply_json(m).map_err(|e| error(400, &e))?;
    }
    for f in required {
        if req.get(*f).is_none_or(Value::is_null) {
            return Err(error(400, &format!("Missing required parameter: '{f}'.")));
        }
    }
    if let Some(r) = ctx.gate(error).await {
        return Err(r);
    }
    Ok(req)
}

fn tokens(text: &str) -> u64 {
    text.len().div_ceil(4) as u64
}

// ---------------------------------------------------------------------------------------------
// Embeddings

/// The inputs of an embeddings request as (text the vector is derived from, token count): a string,
/// a list of strings, a token array (one input, text = the ids joined by ","), or a list of them.
fn embedding_inputs(input: &Value) -> Option<Vec<(String, u64)>> {
    let ids = |a: &[Value]| -> Option<(String, u64)> {
        let ids: Option<Vec<String>> = a
            .iter()
            .map(|t| t.as_u64().map(|n| n.to_string()))
            .collect();
        let ids = ids?;
        (!ids.is_empty()).then(|| (ids.join(","), ids.len() as u64))
    };
    match input {
        Value::String(s) if !s.is_empty() => Some(vec![(s.clone(), tokens(s))]),
        Value::Array(a) if a.is_empty() || a.len() > 2048 => None,
        Value::Array(a) if a[0].is_number() => ids(a).map(|one| vec![one]),
        Value::Array(a) => a
            .iter()
            .map(|i| match i {
                Value::String(s) if !s.is_empty() => Some((s.clone(), tokens(s))),
                Value::Array(t) => ids(t),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

pub async fn embeddings(ctx: &mut Ctx, body: Bytes) -> Resp {
    let req = match open(ctx, &body, &["input", "model"]).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(inputs) = embedding_inputs(&req["input"]) else {
        return error(400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
    };
    let dims = match dims_of(&req["dimensions"], "dimensions") {
        Ok(d) => d,
        Err(e) => return error(400, &e),
    };
    let base64_out = match req["encoding_format"].as_str() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(f) => {
            return error(
                400,
                &format!("Invalid value: '{f}'. Supported values are: 'float' and 'base64'."),
            )
        }
    };
    let mut prompt = 0;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, (text, n))| {
            prompt += n;
            let v = vector(text, dims);
            let embedding = if base64_out {
                let bytes: Vec<u8> = v.iter().flat_map(|x| (*x as f32).to_le_bytes()).collect();
                json!(base64(&bytes))
            } else {
                json!(v)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let out = json!({
        "object": "list", "data": data, "model": req["model"],
        "usage": {"prompt_tokens": prompt, "total_tokens": prompt},
    });
    ctx.whole(out.to_string())
}

// ---------------------------------------------------------------------------------------------
// Images

/// `origin`: `http://HOST:PORT` of this mock, for the `url` of each image (served at
/// `GET /_mock/image/<i>.png`).
pub async fn images(ctx: &mut Ctx, body: Bytes, origin: &str) -> Resp {
    let req = match open(ctx, &body, &["prompt"]).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(prompt) = req["prompt"].as_str().filter(|p| !p.is_empty()) else {
        return error(
            400,
            "Invalid type for 'prompt': expected a non-empty string.",
        );
    };
    let n = match &req["n"] {
        Value::Null => 1,
        v => match v.as_u64() {
            Some(n @ 1..=10) => n,
            _ => return error(400, "Invalid 'n': expected an integer between 1 and 10."),
        },
    };
    let b64 = match req["response_format"].as_str() {
        None | Some("url") => false,
        Some("b64_json") => true,
        Some(f) => {
            return error(
                400,
                &format!("Invalid value: '{f}'. Supported values are: 'url' and 'b64_json'."),
            )
        }
    };
    let model = req["model"].as_str().unwrap_or("dall-e-2");
    let png = b64.then(|| base64(PNG));
    let data: Vec<Value> = (0..n)
        .map(|i| {
            let mut d = match &png {
                Some(b) => json!({"b64_json": b}),
                None => json!({"url": format!("{origin}/_mock/image/{i}.png")}),
            };
            if model.starts_with("dall-e-3") {
                d["revised_prompt"] = json!(prompt);
            }
            d
        })
        .collect();
    let mut out = json!({"created": server::now(), "data": data});
    if model.starts_with("gpt-image") {
        let pick = |key: &str, allowed: &[&str], default: &str| -> Value {
            match req[key].as_str() {
                Some(v) if allowed.contains(&v) => json!(v),
                _ => json!(default),
            }
        };
        let input = tokens(prompt);
        let output = u64::from(ctx.knobs.chunks) * n;
        out["background"] = pick("background", &["transparent", "opaque"], "opaque");
        out["output_format"] = pick("output_format", &["png", "webp", "jpeg"], "png");
        out["quality"] = pick("quality", &["low", "medium", "high"], "medium");
        out["size"] = pick(
            "size",
            &["1024x1024", "1024x1536", "1536x1024"],
            "1024x1024",
        );
        out["usage"] = json!({
            "input_tokens": input, "output_tokens": output, "total_tokens": input + output,
            "input_tokens_details": {"text_tokens": input, "image_tokens": 0},
        });
    }
    ctx.whole(out.to_string())
}

// ---------------------------------------------------------------------------------------------
// Legacy completions

/// How many prompts a `prompt` holds (a string, a list of strings, a token array, or a list of
/// token arrays); `None` when it is none of those.
fn prompt_count(p: &Value) -> Option<usize> {
    match p {
        Value::String(_) => Some(1),
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) if a.iter().all(Value::is_u64) => Some(1),
        Value::Array(a) if a.iter().all(|x| x.is_string() || x.is_array()) => Some(a.len()),
        _ => None,
    }
}

pub async fn completions(ctx: &mut Ctx, body: Bytes) -> Resp {
    let req = match open(ctx, &body, &["model", "prompt"]).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(prompts) = prompt_count(&req["prompt"]) else {
        return error(400, "'$.prompt' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
    };
    let per_prompt = req["n"].as_u64().unwrap_or(1).clamp(1, 128) as usize;
    let choices = prompts * per_prompt;
    let k = ctx.knobs.clone();
    let mut pieces = server::pieces(&k);
    let mut finish = "stop";
    if let Some(max) = req["max_tokens"].as_u64() {
        if (max as usize) < pieces.len() {
            pieces.truncate(max as usize);
            finish = "length";
        }
    }
    let finish = k.finish.clone().unwrap_or_else(|| finish.into());
    let id = format!("cmpl-mock-{}", ctx.next_id());
    let created = server::now();
    let model = req["model"].clone();
    let prompt_tokens = body.len().div_ceil(4) as u64 + k.cache_read;
    let completion_tokens = (pieces.len() * choices) as u64;
    let usage = json!({
        "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    });
    let object = |choices: Value| -> Map<String, Value> {
        let v = json!({"id": id, "object": "text_completion", "created": created, "model": model,
            "system_fingerprint": "fp_mock", "choices": choices});
        match v {
            Value::Object(o) => o,
            _ => Map::new(),
        }
    };
    let choice = |i: usize, text: &str, finish: Option<&str>| json!({"text": text, "index": i, "logprobs": null, "finish_reason": finish});

    if !req["stream"].as_bool().unwrap_or(false) {
        let text = pieces.concat();
        let all = (0..choices)
            .map(|i| choice(i, &text, Some(&finish)))
            .collect();
        let mut out = object(Value::Array(all));
        out.insert("usage".into(), usage);
        return ctx.whole(Value::Object(out).to_string());
    }

    let include_usage = req["stream_options"]["include_usage"]
        .as_bool()
        .unwrap_or(false);
    let chunk = |choices: Vec<Value>| -> Bytes {
        let mut o = object(Value::Array(choices));
        if include_usage {
            o.insert("usage".into(), Value::Null);
        }
        if k.stamp {
            o.insert("mock_sent_us".into(), json!("0000000000000000"));
        }
        format!("data: {}\n\n", Value::Object(o)).into()
    };
    let step = |ms: u64, data: Bytes| Step {
        delay: Duration::from_millis(ms),
        data,
    };
    let cut = k.drop_after.or(k.error_event_after).map(|n| n as usize);
    let mut steps = Vec::with_capacity(pieces.len() * choices + 3);
    for (p, piece) in pieces.iter().enumerate() {
        if cut == Some(p) {
            break;
        }
        let gap = if p == 0 { k.ttft_ms } else { k.interval_ms };
        for i in 0..choices {
            steps.push(step(
                if i == 0 { gap } else { 0 },
                chunk(vec![choice(i, piece, None)]),
            ));
        }
    }
    let end = if k.drop_after.is_some() {
        End::Abort
    } else if k.error_event_after.is_some() {
        steps.push(step(0, Bytes::from_static(crate::openai::STREAM_ERROR)));
        End::Stream
    } else {
        for i in 0..choices {
            steps.push(step(0, chunk(vec![choice(i, "", Some(&finish))])));
        }
        if include_usage {
            let mut o = object(json!([]));
            o.insert("usage".into(), usage);
            steps.push(step(0, format!("data: {}\n\n", Value::Object(o)).into()));
        }
        steps.push(step(0, Bytes::from_static(b"data: [DONE]\n\n")));
        End::Stream
    };
    ctx.stream(steps, end)
}

// ---------------------------------------------------------------------------------------------
// Moderations

const CATEGORIES: &[&str] = &[
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
];
/// The categories omni-moderation also scores images for.
const IMAGE_CATEGORIES: &[&str] = &[
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "violence",
    "violence/graphic",
];

/// The inputs of a moderation request as (text, has an image): a string, a list of strings, or one
/// multi-modal list of `{"type":"text"|"image_url",...}` parts.
fn moderation_inputs(input: &Value) -> Option<Vec<(String, bool)>> {
    match input {
        Value::String(s) => Some(vec![(s.clone(), false)]),
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) if a.iter().all(Value::is_string) => Some(
            a.iter()
                .map(|s| (s.as_str().unwrap_or("").to_owned(), false))
                .collect(),
        ),
        Value::Array(a) if a.iter().all(Value::is_object) => {
            let mut text = String::new();
            let mut image = false;
            for part in a {
                match part["type"].as_str() {
                    Some("text") => text.push_str(part["text"].as_str()?),
                    Some("image_url") => image = true,
                    _ => return None,
                }
            }
            Some(vec![(text, image)])
        }
        _ => None,
    }
}

pub async fn moderations(ctx: &mut Ctx, body: Bytes) -> Resp {
    let req = match open(ctx, &body, &["input"]).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let Some(inputs) = moderation_inputs(&req["input"]) else {
        return error(400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
    };
    let results: Vec<Value> = inputs
        .iter()
        .map(|(text, image)| {
            // Flagged (for violence) iff the text mentions "kill", in any case.
            let flagged = text.to_lowercase().contains("kill");
            let (mut cats, mut scores, mut types) = (Map::new(), Map::new(), Map::new());
            for &c in CATEGORIES {
                let hit = flagged && c == "violence";
                cats.insert(c.into(), json!(hit));
                scores.insert(c.into(), json!(if hit { 0.9 } else { 0.0001 }));
                let applied = if *image && IMAGE_CATEGORIES.contains(&c) {
                    json!(["text", "image"])
                } else {
                    json!(["text"])
                };
                types.insert(c.into(), applied);
            }
            json!({"flagged": flagged, "categories": cats, "category_scores": scores,
                "category_applied_input_types": types})
        })
        .collect();
    let model = req["model"].as_str().unwrap_or("omni-moderation-latest");
    let out =
        json!({"id": format!("modr-mock-{}", ctx.next_id()), "model": model, "results": results});
    ctx.whole(out.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_vector() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        let v = vector("hello", 16);
        assert_eq!(v.len(), 16);
        assert!(v.iter().all(|x| (-1.0..1.0).contains(x)));
        assert_eq!(vector("hello", 4), v[..4]);
        assert_ne!(vector("hello", 4), vector("hellp", 4));
    }
}
