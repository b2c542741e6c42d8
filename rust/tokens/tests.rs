//! Unit tests of the pure-Rust cores; the property tests against Python tiktoken are in
//! `tests/core/test_tokens.py`.

use super::chat::{count_chat, ChatError};
use super::count_for_model;
use super::encoding::{chunks, for_model, Encoding};
use super::estimate::{claude_version, Family};
use super::image::{self, Pricing};

const O200K: Encoding = Encoding::O200kBase;
const CL100K: Encoding = Encoding::Cl100kBase;

#[test]
fn counts_known_strings() {
    assert_eq!(O200K.count(""), 0);
    assert_eq!(O200K.count("hello world"), 2);
    assert_eq!(CL100K.count("hello world"), 2);
    // The cookbook's "お誕生日おめでとう": 9 tokens in cl100k_base, 8 in o200k_base.
    assert_eq!(CL100K.count("お誕生日おめでとう"), 9);
    assert_eq!(O200K.count("お誕生日おめでとう"), 8);
    // Special-token text is ordinary text (encode_ordinary), not the special token.
    assert!(O200K.count("<|endoftext|>") > 1);
}

#[test]
fn model_table() {
    let cases = [
        ("gpt-4o", Some(O200K)),
        ("gpt-4o-mini-2024-07-18", Some(O200K)),
        ("openai/gpt-4o", Some(O200K)),
        ("openrouter/openai/GPT-4.1-mini", Some(O200K)),
        ("gpt-4.5-preview", Some(O200K)),
        ("gpt-5", Some(O200K)),
        ("gpt-5.1-codex", Some(O200K)),
        ("o1", Some(O200K)),
        ("o3-mini", Some(O200K)),
        ("o4-mini-2025-04-16", Some(O200K)),
        ("chatgpt-4o-latest", Some(O200K)),
        ("gpt-oss-120b", Some(O200K)),
        ("ft:gpt-4o-mini:org::abc", Some(O200K)),
        ("ft:gpt-4.1-nano:org::abc", Some(O200K)),
        ("gpt-4", Some(CL100K)),
        ("gpt-4-turbo", Some(CL100K)),
        ("gpt-3.5-turbo-0125", Some(CL100K)),
        ("azure/gpt-35-turbo", Some(CL100K)),
        ("text-embedding-3-small", Some(CL100K)),
        ("text-embedding-ada-002", Some(CL100K)),
        ("text-davinci-003", None), // p50k_base: not in the build
        ("claude-3-5-sonnet", None),
        ("", None),
    ];
    for (model, want) in cases {
        assert_eq!(for_model(model), want, "{model}");
    }
}

/// The cookbook's section 6 example; the API reported 124 prompt tokens on gpt-4o, 129 on gpt-4.
const COOKBOOK_MESSAGES: &str = r#"[
 {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
 {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
 {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
 {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
 {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
 {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."}]"#;

/// The cookbook's section 7 example; the API reported 101 prompt tokens on gpt-4o, 105 on gpt-4.
const COOKBOOK_TOOLS: &str = r#"{"tools": [{"type": "function", "function": {
  "name": "get_current_weather", "description": "Get the current weather in a given location",
  "parameters": {"type": "object", "properties": {
    "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
    "unit": {"type": "string", "description": "The unit of temperature to return", "enum": ["celsius", "fahrenheit"]}},
   "required": ["location"]}}}],
 "messages": [
  {"role": "system", "content": "You are a helpful assistant that can answer to questions about the weather."},
  {"role": "user", "content": "What's the weather like in San Francisco?"}]}"#;

#[test]
fn cookbook_examples_match_the_api() {
    let body = format!(r#"{{"messages": {COOKBOOK_MESSAGES}}}"#);
    assert_eq!(count_chat(body.as_bytes(), Some("gpt-4o")), Ok(124));
    assert_eq!(count_chat(body.as_bytes(), Some("gpt-4o-mini")), Ok(124));
    assert_eq!(count_chat(body.as_bytes(), Some("gpt-4-0613")), Ok(129));
    assert_eq!(
        count_chat(COOKBOOK_TOOLS.as_bytes(), Some("gpt-4o")),
        Ok(101)
    );
    assert_eq!(
        count_chat(COOKBOOK_TOOLS.as_bytes(), Some("gpt-4")),
        Ok(105)
    );
    // The body's model is used when none is given.
    let with_model = format!(r#"{{"model": "gpt-4", "messages": {COOKBOOK_MESSAGES}}}"#);
    assert_eq!(count_chat(with_model.as_bytes(), None), Ok(129));
}

#[test]
fn chat_edges() {
    assert_eq!(count_chat(b"{}", None), Ok(3));
    assert_eq!(count_chat(br#"{"messages": []}"#, None), Ok(3));
    assert!(count_chat(b"[1]", None).is_err());
    assert!(count_chat(b"{", None).is_err());
    let deep = format!(r#"{{"x": {}{}}}"#, "[".repeat(200), "]".repeat(200));
    assert_eq!(count_chat(deep.as_bytes(), None), Err(ChatError::TooDeep));
    // content parts, a null content with tool calls
    let body = br#"{"messages": [
        {"role": "user", "content": [{"type": "text", "text": "hello world"}, {"type": "input_audio"}]},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
         "function": {"name": "f", "arguments": "{}"}}]}]}"#;
    // priming 3; user: 3 + "user" 1 + "hello world" 2; assistant: 3 + "assistant" 1 + "f" 1 + "{}" 1
    // (a call's id and type are not counted).
    assert_eq!(count_chat(body, Some("gpt-4o")), Ok(3 + 6 + 6));
}

#[test]
fn images() {
    let tiles = Pricing::Tiles {
        base: 85,
        tile: 170,
    };
    // The guide's worked examples: 1024×1024 high → 765; 2048×4096 high → 1105; low → 85.
    assert_eq!(image::tokens(tiles, Some((1024, 1024)), false), 765);
    assert_eq!(image::tokens(tiles, Some((2048, 4096)), false), 1105);
    assert_eq!(image::tokens(tiles, Some((4096, 8192)), true), 85);
    assert_eq!(image::tokens(tiles, None, false), 765);
    // Patches: 1024×1024 is 1024 patches; 1800×2400 is scaled to the 1536 cap.
    assert_eq!(image::patches(1024, 1024), 1024);
    assert!(image::patches(1800, 2400) <= 1536);
    assert_eq!(
        image::pricing("gpt-4o-mini-2024-07-18"),
        Pricing::Tiles {
            base: 2833,
            tile: 5667
        }
    );
    assert_eq!(image::pricing("gpt-4.1"), tiles);

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x03\x20\0\0\x02\x58";
    assert_eq!(image::sniff_size(png), Some((800, 600)));
    assert_eq!(
        image::sniff_size(b"GIF89a\x20\x03\x58\x02"),
        Some((800, 600))
    );
    let jpeg = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xc0\x00\x11\x08\x02\x58\x03\x20\x03";
    assert_eq!(image::sniff_size(jpeg), Some((800, 600)));
    assert_eq!(image::sniff_size(b"not an image"), None);
    let url = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAyAAAAJYCAYAAAA=";
    assert_eq!(image::data_url_size(url), Some((800, 600)));
}

#[test]
fn families() {
    assert_eq!(claude_version("claude-3-5-sonnet-20241022"), (3, 5));
    assert_eq!(claude_version("claude-sonnet-4-20250514"), (4, 0));
    assert_eq!(claude_version("claude-opus-4-7"), (4, 7));
    assert_eq!(claude_version("claude-opus-4.7"), (4, 7));
    assert_eq!(claude_version("claude"), (0, 0));
    assert_eq!(Family::of("claude-3-haiku-20240307"), Some(Family::Claude));
    assert_eq!(
        Family::of("us.anthropic.claude-opus-4-7-v1:0"),
        Some(Family::Claude47)
    );
    assert_eq!(Family::of("models/gemini-2.5-pro"), Some(Family::Gemini));
    assert_eq!(Family::of("open-mistral-nemo"), Some(Family::Mistral));
    assert_eq!(Family::of("deepseek-chat"), Some(Family::DeepSeek));
    assert_eq!(Family::of("qwen3-235b-a22b"), Some(Family::Qwen));
    assert_eq!(Family::of("llama-3.1-70b"), None);
    let text = "The quick brown fox jumps over the lazy dog.";
    let n = O200K.count(text) as u64;
    assert_eq!(count_for_model(text, "gpt-4o"), n);
    assert_eq!(count_for_model(text, "llama-3.1-70b"), n);
    assert_eq!(
        count_for_model(text, "anthropic/claude-3-5-sonnet"),
        Family::Claude.scale(n)
    );
    assert!(count_for_model(text, "claude-3-5-sonnet") > n);
}

/// Fragments that meet at every kind of cut and non-cut: whitespace of each kind around letters,
/// marks, digits, punctuation with newline and slash tails, contractions, CJK, emoji.
const FRAGMENTS: &[&str] = &[
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    "\u{a0}",
    "\u{3000}",
    "\u{2028}",
    "\u{85}",
    "\u{b}",
    "a",
    "Ab",
    "HTTP",
    "é",
    "e\u{301}",
    "\u{301}",
    "'s",
    "'LL",
    "'",
    "1",
    "123",
    "12345",
    "٣",
    ".",
    "!?",
    "/",
    "./",
    ".\n/",
    "//",
    "中文",
    "東京",
    "😀",
    "👩\u{200d}💻",
    "<|endoftext|>",
    "x",
    "-",
    "\"",
];

/// Counting chunk by chunk equals counting the whole, with a cut at every position `chunks` allows
/// (minimum chunk length 1), over 20 000 pseudo-random texts of fragments.
#[test]
fn chunked_counts_equal_whole_counts() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let len = (next() % 40) as usize;
        let text: String = (0..len)
            .map(|_| FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize])
            .collect();
        assert_eq!(chunks(&text, 1).collect::<String>(), text);
        for enc in [O200K, CL100K] {
            let chunked: usize = chunks(&text, 1).map(|c| enc.count_whole(c)).sum();
            assert_eq!(chunked, enc.count_whole(&text), "{enc:?} {text:?}");
        }
    }
}

#[test]
fn pathological_whitespace_is_linear() {
    // 256 KB of no-break space + full stop: ~100 ms per 16 KB unchunked, quadratic.
    let text = "\u{a0}.".repeat(256 * 1024 / 3);
    let start = std::time::Instant::now();
    assert_eq!(
        O200K.count(&text),
        O200K.count("\u{a0}.") * (256 * 1024 / 3)
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
}
