//! The one error type of `inspect`: what is wrong with a body (`ErrorKind`), where (`offset`, `param`),
//! and the caller-facing message, worded as OpenAI words its 400s. The pyo3 skin turns it into
//! `InspectError` with these as attributes; `errors.py` on the Python side maps `kind` to a status.

use std::fmt;

/// Inside the scan an error travels boxed: it is cold, and a two-word `Err` keeps hot results such as
/// `Result<Span>` in registers (unboxed, every key went through the stack with store-forwarding stalls:
/// 40% of the time on a 200-byte body).
pub type Result<T> = std::result::Result<T, Box<BodyError>>;

/// What went wrong, as Python sees it in `InspectError.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidJson,
    NotObject,
    InvalidType,
    InvalidValue,
    MissingParam,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidJson => "invalid_json",
            ErrorKind::NotObject => "not_object",
            ErrorKind::InvalidType => "invalid_type",
            ErrorKind::InvalidValue => "invalid_value",
            ErrorKind::MissingParam => "missing_param",
        }
    }
}

/// A rejected body: the kind, the parameter path (`messages[2].content`), the byte offset of the problem
/// and the caller-facing message (OpenAI's wording where OpenAI has one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyError {
    pub kind: ErrorKind,
    pub param: Option<String>,
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BodyError {}

impl BodyError {
    pub fn json(offset: usize, what: &str) -> Box<Self> {
        Box::new(BodyError {
            kind: ErrorKind::InvalidJson,
            param: None,
            offset,
            message: format!("Request body is not valid JSON: {what} at byte {offset}"),
        })
    }

    pub fn not_object(offset: usize, got: &str) -> Box<Self> {
        Box::new(BodyError {
            kind: ErrorKind::NotObject,
            param: None,
            offset,
            message: format!("Request body must be a JSON object, but got {got} instead."),
        })
    }

    pub fn invalid_type(param: String, expected: &str, got: &str, offset: usize) -> Box<Self> {
        let message =
            format!("Invalid type for '{param}': expected {expected}, but got {got} instead.");
        Box::new(BodyError {
            kind: ErrorKind::InvalidType,
            param: Some(param),
            offset,
            message,
        })
    }

    pub fn invalid_value(param: String, why: &str, offset: usize) -> Box<Self> {
        let message = format!("Invalid value for '{param}': {why}.");
        Box::new(BodyError {
            kind: ErrorKind::InvalidValue,
            param: Some(param),
            offset,
            message,
        })
    }

    pub fn missing(param: String, offset: usize) -> Box<Self> {
        let message = format!("Missing required parameter: '{param}'.");
        Box::new(BodyError {
            kind: ErrorKind::MissingParam,
            param: Some(param),
            offset,
            message,
        })
    }
}
