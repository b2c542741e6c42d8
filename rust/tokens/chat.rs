//! Prompt tokens of a chat-completions request body, the way OpenAI bills them.
//!
//! Messages: the OpenAI cookbook "How to count tokens with tiktoken" (`num_tokens_from_messages`,
//! section 6): 3 tokens per message, the tokens of every string value of the message (`role`,
//! `content`, `name`, `tool_call_id`, ...), 1 more for a `name`, and 3 for the reply's priming
//! (`<|start|>assistant<|message|>`). The cookbook checks it against the API's `prompt_tokens` (124 for
//! its example on gpt-4o and gpt-4o-mini, 129 on gpt-4); the tests replay that example.
//!
//! What the cookbook leaves out, and what we do about it:
//! - content arrays: each `text` part's text (and an assistant's `refusal` parts); image parts as
//!   `image.rs` prices them; other parts (audio, files) count nothing.
//! - an assistant's `tool_calls` (and legacy `function_call`): the tokens of each function's `name` and
//!   `arguments`. OpenAI publishes no formula; this undercounts by a few tokens of framing per call.
//! - tool definitions: the cookbook's `num_tokens_for_tools` (section 7), exact on its example (101 on
//!   gpt-4o, 105 on gpt-4): per function 7 tokens (10 on cl100k models) + `name:description`; if it has
//!   properties, 3 + per property 3 + `name:type:description` (one trailing "." dropped from each
//!   description) and, for an `enum`, −3 + per item 3 + the item; 12 once at the end. It reads only the
//!   top level of `parameters.properties`: nested object properties, array `items`, `required`, and
//!   non-string `type`s or enum items count nothing, so deeply nested schemas are undercounted. Legacy
//!   `functions` are counted the same way.

use serde_json::{Map, Value};

use super::encoding::{base_model, Encoding};
use super::estimate::Family;
use super::image;

/// Why a body cannot be counted.
#[derive(Debug, PartialEq, Eq)]
pub enum ChatError {
    /// Not JSON (serde_json's message, with line and column).
    InvalidJson(String),
    /// JSON, but not an object.
    NotObject,
    /// Nested deeper than serde_json's 128 levels (no chat request comes near; the limit keeps a
    /// hostile body from overflowing the stack).
    TooDeep,
}

impl std::fmt::Display for ChatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidJson(e) => write!(f, "request body is not valid JSON: {e}"),
            Self::NotObject => f.write_str("request body is not a JSON object"),
            Self::TooDeep => f.write_str("request body nests JSON deeper than 128 levels"),
        }
    }
}

const TOKENS_PER_MESSAGE: u64 = 3;
const TOKENS_PER_NAME: u64 = 1;
const REPLY_PRIMING: u64 = 3;

/// How a body is counted: the encoding, the image pricing, and the estimate factor (1 for OpenAI).
#[derive(Clone, Copy, Debug)]
pub struct Counter {
    pub encoding: Encoding,
    pub images: image::Pricing,
    pub family: Option<Family>,
}

impl Counter {
    /// The counter for `model`: its OpenAI encoding; else o200k_base, scaled by the family estimate if
    /// it is one of the families in `estimate.rs`; else o200k_base as it is.
    pub fn for_model(model: Option<&str>) -> Self {
        let name = model.map(|m| base_model(m).to_ascii_lowercase());
        let name = name.as_deref().unwrap_or("");
        match Encoding::for_model(name) {
            Some(encoding) => Self {
                encoding,
                images: image::pricing(name),
                family: None,
            },
            None => Self {
                encoding: Encoding::O200kBase,
                images: image::pricing("gpt-4o"),
                family: Family::of(name),
            },
        }
    }
}

/// Prompt tokens of the chat-completions request `body`; `model` overrides the body's `model`.
pub fn count_chat(body: &[u8], model: Option<&str>) -> Result<u64, ChatError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        if msg.starts_with("recursion limit exceeded") {
            ChatError::TooDeep
        } else {
            ChatError::InvalidJson(msg)
        }
    })?;
    let Value::Object(req) = value else {
        return Err(ChatError::NotObject);
    };
    let model = model.or_else(|| req.get("model").and_then(Value::as_str));
    let counter = Counter::for_model(model);
    let exact = count_request(&req, &counter);
    Ok(match counter.family {
        Some(family) => family.scale(exact),
        None => exact,
    })
}

/// The OpenAI count of a parsed request (no family scaling).
pub fn count_request(req: &Map<String, Value>, c: &Counter) -> u64 {
    let mut n = REPLY_PRIMING;
    if let Some(Value::Array(messages)) = req.get("messages") {
        for m in messages {
            if let Value::Object(m) = m {
                n += count_message(m, c);
            }
        }
    }
    let tools = req.get("tools").and_then(Value::as_array).map(|tools| {
        tools
            .iter()
            .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
            .filter_map(|t| t.get("function")?.as_object())
            .collect::<Vec<_>>()
    });
    let functions = req
        .get("functions")
        .and_then(Value::as_array)
        .map(|fs| fs.iter().filter_map(Value::as_object).collect::<Vec<_>>());
    let defs: Vec<&Map<String, Value>> = tools.into_iter().chain(functions).flatten().collect();
    n + count_tools(&defs, c.encoding)
}

fn count_message(m: &Map<String, Value>, c: &Counter) -> u64 {
    let enc = c.encoding;
    let mut n = TOKENS_PER_MESSAGE;
    for (key, value) in m {
        match value {
            Value::String(s) => {
                n += enc.count(s) as u64;
                if key == "name" {
                    n += TOKENS_PER_NAME;
                }
            }
            Value::Array(parts) if key == "content" => {
                n += parts.iter().map(|p| count_part(p, c)).sum::<u64>();
            }
            Value::Array(calls) if key == "tool_calls" => {
                n += calls
                    .iter()
                    .filter_map(|call| call.get("function"))
                    .map(|f| count_call(f, enc))
                    .sum::<u64>();
            }
            Value::Object(_) if key == "function_call" => n += count_call(value, enc),
            _ => {}
        }
    }
    n
}

fn count_call(function: &Value, enc: Encoding) -> u64 {
    ["name", "arguments"]
        .iter()
        .filter_map(|k| function.get(*k)?.as_str())
        .map(|s| enc.count(s) as u64)
        .sum()
}

fn count_part(part: &Value, c: &Counter) -> u64 {
    let str_field = |k: &str| part.get(k).and_then(Value::as_str);
    match str_field("type") {
        Some("text" | "input_text") => str_field("text").map_or(0, |t| c.encoding.count(t) as u64),
        Some("refusal") => str_field("refusal").map_or(0, |t| c.encoding.count(t) as u64),
        Some("image_url" | "input_image") => {
            // Chat: {"image_url": {"url", "detail"}}; Responses-style: {"image_url": "...", "detail"}.
            let (url, detail) = match part.get("image_url") {
                Some(Value::Object(o)) => (
                    o.get("url").and_then(Value::as_str),
                    o.get("detail").and_then(Value::as_str),
                ),
                Some(Value::String(u)) => (Some(u.as_str()), str_field("detail")),
                _ => (None, str_field("detail")),
            };
            let size = url.and_then(image::data_url_size);
            image::tokens(c.images, size, detail == Some("low"))
        }
        _ => 0,
    }
}

const FUNC_END: i64 = 12;
const PROP_INIT: i64 = 3;
const PROP_KEY: i64 = 3;
const ENUM_INIT: i64 = -3;
const ENUM_ITEM: i64 = 3;

/// Tokens of the function definitions, by the cookbook's `num_tokens_for_tools` (module docs).
pub fn count_tools(defs: &[&Map<String, Value>], enc: Encoding) -> u64 {
    if defs.is_empty() {
        return 0;
    }
    let func_init: i64 = match enc {
        Encoding::O200kBase => 7,
        Encoding::Cl100kBase => 10,
    };
    let count = |s: &str| enc.count(s) as i64;
    fn text(v: Option<&Value>) -> &str {
        v.and_then(Value::as_str).unwrap_or("")
    }
    let mut n = 0i64;
    for f in defs {
        n += func_init;
        let desc = text(f.get("description"));
        let desc = desc.strip_suffix('.').unwrap_or(desc);
        n += count(&format!("{}:{desc}", text(f.get("name"))));
        let props = f
            .get("parameters")
            .and_then(|p| p.get("properties"))
            .and_then(Value::as_object);
        let Some(props) = props.filter(|p| !p.is_empty()) else {
            continue;
        };
        n += PROP_INIT;
        for (key, prop) in props {
            n += PROP_KEY;
            if let Some(items) = prop.get("enum") {
                n += ENUM_INIT;
                for item in items.as_array().map_or(&[][..], Vec::as_slice) {
                    n += ENUM_ITEM + item.as_str().map_or(0, count);
                }
            }
            let p_desc = text(prop.get("description"));
            let p_desc = p_desc.strip_suffix('.').unwrap_or(p_desc);
            n += count(&format!("{key}:{}:{p_desc}", text(prop.get("type"))));
        }
    }
    (n + FUNC_END).max(0) as u64
}
