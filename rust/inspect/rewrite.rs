//! `rewrite_model`: the request body with the top-level `model` value replaced and, on request,
//! `stream_options.include_usage` made true — every other byte untouched (whitespace, key order, unknown
//! fields, number spelling). One validating scan records a short list of edits; the output is then
//! written once, straight into its final buffer.
//!
//! The edits, exactly (the Python reference reproduces these bytes):
//! - each top-level `model` member's value is replaced by the new model as a JSON string (escaped as
//!   Python's `json.dumps(model, ensure_ascii=False)` does). *Every* occurrence of a duplicated key is
//!   replaced, so an upstream that keeps the first duplicate sees the same model as one that keeps the
//!   last;
//! - with no top-level `model`, `"model":<model>` is inserted right after the opening `{`;
//! - with `include_usage`, each top-level `stream_options` is fixed: `null` becomes
//!   `{"include_usage":true}`; in an object, each `include_usage` whose value is not `true` gets `true`,
//!   and an object without one gets `"include_usage":true` right after its `{`; another type is an
//!   `invalid_type` error. With no `stream_options` at all, `"stream_options":{"include_usage":true}` is
//!   inserted after the opening `{` (after an inserted `model`). Inserted members are followed by `,`
//!   when the object already had members.

use super::scan::{text, type_name, BodyError, Kind, Result, Scanner};

const USAGE_OBJECT: &[u8] = b"{\"include_usage\":true}";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum What {
    /// The new model, as a JSON string.
    Model,
    Lit(&'static [u8]),
    /// New top-level members: `"model":…`, `"stream_options":{…}`, then `,` if members follow.
    Members {
        model: bool,
        usage: bool,
        comma: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Edit {
    start: usize,
    end: usize,
    what: What,
}

/// The edits one scan found; `write` applies them to the same body.
#[derive(Debug, Default)]
pub struct Plan {
    edits: Vec<Edit>,
}

/// Scan `body` and plan the rewrite (see the module docs). Errors: invalid JSON, not an object, or (with
/// `include_usage`) a `stream_options` that is neither an object nor null.
pub fn plan(body: &[u8], include_usage: bool) -> std::result::Result<Plan, BodyError> {
    plan_boxed(body, include_usage).map_err(|e| *e)
}

fn plan_boxed(body: &[u8], include_usage: bool) -> Result<Plan> {
    let mut s = Scanner::new(body);
    s.ws();
    let start = s.i;
    if s.kind()? != Kind::Object {
        s.skip_value()?;
        s.finish()?;
        return Err(BodyError::not_object(start, type_name(body, start)));
    }
    let mut plan = Plan::default();
    let mut keys = Vec::new();
    let mut deferred = None;
    let (mut model, mut options) = (false, false);
    let non_empty = s.object_begin()?;
    if non_empty {
        loop {
            let key = s.key()?;
            match text(body, key, &mut keys) {
                b"model" => {
                    model = true;
                    let v = s.i;
                    s.skip_value()?;
                    plan.push(v, s.i, What::Model);
                }
                b"stream_options" if include_usage => {
                    options = true;
                    if let Err(e) = plan.stream_options(&mut s, &mut keys)? {
                        deferred.get_or_insert(e);
                    }
                }
                _ => s.skip_value()?,
            }
            if !s.object_next()? {
                break;
            }
        }
    }
    s.finish()?;
    if let Some(e) = deferred {
        return Err(e);
    }
    let usage = include_usage && !options;
    if !model || usage {
        let members = What::Members {
            model: !model,
            usage,
            comma: non_empty,
        };
        plan.push(start + 1, start + 1, members);
    }
    plan.edits.sort_by_key(|e| e.start);
    Ok(plan)
}

impl Plan {
    fn push(&mut self, start: usize, end: usize, what: What) {
        self.edits.push(Edit { start, end, what });
    }

    /// One `stream_options` value at the cursor: plan its fix; Ok(Err) for a wrong type (deferred).
    fn stream_options(&mut self, s: &mut Scanner<'_>, keys: &mut Vec<u8>) -> Result<Result<()>> {
        let at = s.i;
        match s.kind()? {
            Kind::Null => {
                s.literal()?;
                self.push(at, s.i, What::Lit(USAGE_OBJECT));
            }
            Kind::Object => {
                let mut found = false;
                let non_empty = s.object_begin()?;
                if non_empty {
                    loop {
                        let key = s.key()?;
                        let is_usage = text(s.b, key, keys) == b"include_usage";
                        found |= is_usage;
                        let (v, kind) = (s.i, s.kind()?);
                        s.skip_value()?;
                        if is_usage && kind != Kind::True {
                            self.push(v, s.i, What::Lit(b"true"));
                        }
                        if !s.object_next()? {
                            break;
                        }
                    }
                }
                if !found {
                    let lit: &[u8] = if non_empty {
                        b"\"include_usage\":true,"
                    } else {
                        b"\"include_usage\":true"
                    };
                    self.push(at + 1, at + 1, What::Lit(lit));
                }
            }
            _ => {
                let e = BodyError::invalid_type(
                    "stream_options".into(),
                    "an object",
                    type_name(s.b, at),
                    at,
                );
                s.skip_value()?;
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }

    /// The length of the rewritten body.
    pub fn output_len(&self, body_len: usize, model_json: &[u8]) -> usize {
        self.edits.iter().fold(body_len, |n, e| {
            n - (e.end - e.start) + piece_len(e.what, model_json)
        })
    }

    /// Write the rewritten body into `out`, which must be exactly `output_len` bytes.
    pub fn write(&self, body: &[u8], model_json: &[u8], out: &mut [u8]) {
        let mut w = Writer { out, at: 0 };
        let mut from = 0;
        for e in &self.edits {
            w.put(&body[from..e.start]);
            match e.what {
                What::Model => w.put(model_json),
                What::Lit(lit) => w.put(lit),
                What::Members {
                    model,
                    usage,
                    comma,
                } => {
                    if model {
                        w.put(b"\"model\":");
                        w.put(model_json);
                    }
                    if usage {
                        if model {
                            w.put(b",");
                        }
                        w.put(b"\"stream_options\":");
                        w.put(USAGE_OBJECT);
                    }
                    if comma {
                        w.put(b",");
                    }
                }
            }
            from = e.end;
        }
        w.put(&body[from..]);
        debug_assert_eq!(w.at, w.out.len());
    }
}

fn piece_len(what: What, model_json: &[u8]) -> usize {
    match what {
        What::Model => model_json.len(),
        What::Lit(lit) => lit.len(),
        What::Members {
            model,
            usage,
            comma,
        } => {
            let m = if model {
                b"\"model\":".len() + model_json.len()
            } else {
                0
            };
            let u = if usage {
                b"\"stream_options\":".len() + USAGE_OBJECT.len()
            } else {
                0
            };
            m + u + usize::from(model && usage) + usize::from(comma)
        }
    }
}

struct Writer<'o> {
    out: &'o mut [u8],
    at: usize,
}

impl Writer<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.out[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }
}

/// `model` as a JSON string, escaped exactly as Python's `json.dumps(model, ensure_ascii=False)`.
pub fn json_string(model: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(model.len() + 2);
    out.push(b'"');
    for &c in model.as_bytes() {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 0xf)]);
            }
            _ => out.push(c),
        }
    }
    out.push(b'"');
    out
}

/// Plan and apply in one call (the pyo3 skin writes straight into a `bytes` instead).
pub fn rewrite(
    body: &[u8],
    model: &str,
    include_usage: bool,
) -> std::result::Result<Vec<u8>, BodyError> {
    let plan = plan(body, include_usage)?;
    let model_json = json_string(model);
    let mut out = vec![0; plan.output_len(body.len(), &model_json)];
    plan.write(body, &model_json, &mut out);
    Ok(out)
}
