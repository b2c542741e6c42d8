//! The answer every dialect renders: an optional reasoning block, then either text pieces or tool
//! calls, decided from the knobs and the tools the request offers.

use crate::knobs::Knobs;
use crate::server;

pub const THOUGHT: &str = "Let me think this through.";
pub const SIGNATURE: &str = "sig-mock-EqQBCgIYAhIM";

pub struct Call {
    pub id: String,
    pub name: String,
    /// The arguments JSON, split into the pieces a stream sends.
    pub args: Vec<String>,
}

pub struct Script {
    pub thinking: bool,
    pub text: Vec<String>,
    pub calls: Vec<Call>,
}

impl Script {
    /// `tools`: the names the request offers, in order; `forced`: the tool the request forces (or
    /// `Some("")` for "any tool").
    pub fn new(k: &Knobs, tools: &[String], forced: Option<&str>) -> Script {
        let mut n = k.tool_calls as usize;
        if n == 0 && forced.is_some() && !tools.is_empty() {
            n = 1;
        }
        let name = match forced {
            Some(f) if !f.is_empty() => f.to_owned(),
            _ => tools.first().cloned().unwrap_or_default(),
        };
        let calls = if tools.is_empty() {
            Vec::new()
        } else {
            (0..n)
                .map(|i| Call {
                    id: format!("call_mock_{i}"),
                    name: name.clone(),
                    args: vec![
                        "{\"city\":".into(),
                        " \"Paris\",".into(),
                        format!("\"n\":{i}}}"),
                    ],
                })
                .collect()
        };
        let text = if calls.is_empty() {
            server::pieces(k)
        } else {
            Vec::new()
        };
        Script {
            thinking: k.thinking,
            text,
            calls,
        }
    }

    /// Visible completion tokens: one per text piece or argument piece (reasoning ones: `k.reasoning`).
    pub fn visible_tokens(&self) -> u64 {
        let args: usize = self.calls.iter().map(|c| c.args.len()).sum();
        (self.text.len() + args) as u64
    }
}
