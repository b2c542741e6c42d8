//! The incremental event-stream parser, exact to the WHATWG "event stream interpretation" rules
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>).
//! Pure Rust: the pyo3 skin lives in `mod.rs`.

use memchr::memchr;

use super::lines::Lines;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Event {
    /// The event type: the last `event` field of the block, or `"message"`.
    pub event: String,
    /// The `data` fields of the block joined with `"\n"`.
    pub data: String,
    /// The last event ID in effect when the event was dispatched; `None` if no `id` field was ever
    /// accepted (an explicit empty `id:` gives `Some("")`).
    pub id: Option<String>,
    /// The last valid `retry` field of this event's block, if any.
    pub retry: Option<u64>,
}

/// Splits a field line into name and value: before the first colon, and after it less one
/// leading space; a line without a colon is all name with an empty value.
#[inline]
pub(crate) fn split_field(line: &[u8]) -> (&[u8], &[u8]) {
    match memchr(b':', line) {
        Some(c) => {
            let value = &line[c + 1..];
            (&line[..c], value.strip_prefix(b" ").unwrap_or(value))
        }
        None => (line, &[]),
    }
}

/// A `retry` value: only ASCII digits (at least one). Values beyond `u64` are ignored too.
pub(crate) fn parse_retry(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    value.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

fn decode(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Incremental parser: feed it chunks split anywhere, get the events each chunk completes.
///
/// Bytes are kept raw until an event is dispatched and then decoded lossily (U+FFFD for invalid
/// UTF-8); since every byte the rules look at (CR, LF, colon, space, field names, digits, NUL) is
/// ASCII, this equals decoding the stream first, as the spec says.
#[derive(Debug, Default)]
pub struct Parser {
    lines: Lines,
    /// The spec's data buffer, without its trailing LF; `has_data` tells "" from no data line.
    data: Vec<u8>,
    has_data: bool,
    event_type: Vec<u8>,
    /// The spec's last event ID buffer (set by `id` fields as they are read).
    id_buffer: Option<String>,
    /// The spec's last event ID string (copied from the buffer at every blank line).
    last_event_id: Option<String>,
    /// The last valid `retry` of the current block.
    block_retry: Option<u64>,
    /// The reconnection time: the last valid `retry` read, in any block.
    retry: Option<u64>,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `chunk` and appends the events it completes to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Event>) {
        let Parser {
            lines,
            data,
            has_data,
            event_type,
            id_buffer,
            last_event_id,
            block_retry,
            retry,
        } = self;
        lines.feed(chunk, |line, _| {
            if line.is_empty() {
                // Dispatch.
                last_event_id.clone_from(id_buffer);
                let block_retry = block_retry.take();
                if !std::mem::take(has_data) {
                    event_type.clear();
                    return;
                }
                let event = if event_type.is_empty() {
                    "message".to_owned()
                } else {
                    decode(std::mem::take(event_type))
                };
                out.push(Event {
                    event,
                    data: decode(std::mem::take(data)),
                    id: id_buffer.clone(),
                    retry: block_retry,
                });
                return;
            }
            if line[0] == b':' {
                return;
            }
            let (name, value) = split_field(line);
            match name {
                b"data" => {
                    if *has_data {
                        data.push(b'\n');
                    }
                    data.extend_from_slice(value);
                    *has_data = true;
                }
                b"event" => {
                    event_type.clear();
                    event_type.extend_from_slice(value);
                }
                b"id" if memchr(0, value).is_none() => {
                    *id_buffer = Some(String::from_utf8_lossy(value).into_owned());
                }
                b"retry" => {
                    if let Some(ms) = parse_retry(value) {
                        *block_retry = Some(ms);
                        *retry = Some(ms);
                    }
                }
                _ => {}
            }
        });
    }

    /// Ends the stream. Per the spec an unterminated event is discarded, so there is nothing to
    /// return; the parser is ready for a new stream (a leading BOM is stripped again), keeping
    /// `last_event_id` and `retry` as an `EventSource` keeps them across reconnects.
    pub fn finish(&mut self) {
        self.lines.reset();
        self.data.clear();
        self.has_data = false;
        self.event_type.clear();
        self.id_buffer.clone_from(&self.last_event_id);
        self.block_retry = None;
    }

    /// The last event ID string: the ID in effect at the last blank line; `None` if never set.
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The reconnection time from the last valid `retry` field read, if any.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str, id: Option<&str>, retry: Option<u64>) -> Event {
        Event {
            event: event.into(),
            data: data.into(),
            id: id.map(Into::into),
            retry,
        }
    }

    fn msg(data: &str) -> Event {
        ev("message", data, None, None)
    }

    fn parse_chunks(chunks: &[&[u8]]) -> (Vec<Event>, Parser) {
        let mut p = Parser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out);
        }
        (out, p)
    }

    fn parse(stream: &[u8]) -> Vec<Event> {
        parse_chunks(&[stream]).0
    }

    /// Every split into two and three chunks, and byte by byte, gives the same events.
    fn assert_chunking_independent(stream: &[u8]) -> Vec<Event> {
        let whole = parse(stream);
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(parse_chunks(&bytes).0, whole, "byte by byte");
        for i in 0..=stream.len() {
            let (a, b) = stream.split_at(i);
            assert_eq!(parse_chunks(&[a, b]).0, whole, "split at {i}");
            for j in i..=stream.len() {
                let (b, c) = (&stream[i..j], &stream[j..]);
                assert_eq!(parse_chunks(&[a, b, c]).0, whole, "split at {i}, {j}");
            }
        }
        whole
    }

    #[test]
    fn simple_and_multiline_data() {
        let got = assert_chunking_independent(b"data: a\ndata:b\ndata\ndata:  c\n\n");
        assert_eq!(got, [msg("a\nb\n\n c")]);
    }

    #[test]
    fn all_line_endings() {
        for sep in [&b"\n"[..], b"\r", b"\r\n"] {
            let s = [
                b"event: e".as_slice(),
                sep,
                b"data: x",
                sep,
                sep,
                b"data: y",
                sep,
                sep,
            ]
            .concat();
            let got = assert_chunking_independent(&s);
            assert_eq!(got, [ev("e", "x", None, None), msg("y")], "{sep:?}");
        }
    }

    #[test]
    fn mixed_endings_and_cr_then_lf_blank() {
        // "x" ends in CR, then "\n" is part of it (CRLF), then "\r" is a blank line.
        let got = assert_chunking_independent(b"data: x\r\n\rdata: y\n\r\n");
        assert_eq!(got, [msg("x"), msg("y")]);
        // CR LF LF: the LF after CRLF is a blank line.
        assert_eq!(parse(b"data: x\r\n\n"), [msg("x")]);
        // LF CR: two endings.
        assert_eq!(parse(b"data: x\n\r"), [msg("x")]);
    }

    #[test]
    fn bom_stripped_once() {
        let got = assert_chunking_independent(b"\xEF\xBB\xBFdata: a\n\n");
        assert_eq!(got, [msg("a")]);
        // A second BOM makes the first line an unknown field.
        assert_eq!(
            parse(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n"),
            [msg("b")]
        );
        // Only at stream start.
        assert_eq!(parse(b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"), [msg("a")]);
    }

    #[test]
    fn comments_and_unknown_fields_ignored() {
        let got = assert_chunking_independent(b": hi\n:\ndata: a\n: mid\nfoo: bar\nData: no\n\n");
        assert_eq!(got, [msg("a")]);
    }

    #[test]
    fn blank_without_data_resets_event_type() {
        let got = parse(b"event: x\n\ndata: a\n\nevent: y\n: c\n\n");
        assert_eq!(got, [msg("a")]);
    }

    #[test]
    fn empty_data_field_dispatches_empty_event() {
        assert_eq!(parse(b"data\n\n"), [msg("")]);
        assert_eq!(parse(b"data:\n\n"), [msg("")]);
        assert_eq!(parse(b"data:\ndata:\n\n"), [msg("\n")]);
        assert_eq!(parse(b"event: e\nevent\ndata\n\n"), [msg("")]);
    }

    #[test]
    fn only_one_space_removed_and_colons_in_value_kept() {
        assert_eq!(parse(b"data:   x: y \n\n"), [msg("  x: y ")]);
        assert_eq!(parse(b"data:\tx\n\n"), [msg("\tx")]);
    }

    #[test]
    fn id_persists_and_nul_ignored() {
        let (got, p) =
            parse_chunks(&[b"id: 1\ndata: a\n\ndata: b\n\nid: 2\0\ndata: c\n\nid\ndata: d\n\n"]);
        assert_eq!(
            got,
            [
                ev("message", "a", Some("1"), None),
                ev("message", "b", Some("1"), None),
                ev("message", "c", Some("1"), None),
                ev("message", "d", Some(""), None),
            ]
        );
        assert_eq!(p.last_event_id(), Some(""));
        // The id applies to the event of its block even when it comes after the data.
        assert_eq!(
            parse(b"data: a\nid: 7\n\n"),
            [ev("message", "a", Some("7"), None)]
        );
    }

    #[test]
    fn last_event_id_updates_at_blank_line_even_without_data() {
        let (got, p) = parse_chunks(&[b"id: 5\n\n"]);
        assert!(got.is_empty());
        assert_eq!(p.last_event_id(), Some("5"));
        // An id in an unterminated block is not in effect yet.
        let (_, p) = parse_chunks(&[b"id: 5\n\nid: 6\n"]);
        assert_eq!(p.last_event_id(), Some("5"));
        let (_, p) = parse_chunks(&[b"data: x\n"]);
        assert_eq!(p.last_event_id(), None);
    }

    #[test]
    fn retry_rules() {
        let (got, p) = parse_chunks(&[b"retry: 100\ndata: a\n\ndata: b\n\nretry: 1x\ndata: c\n\nretry:\nretry: 5 \ndata: d\n\nretry: 300\n\n"]);
        assert_eq!(
            got,
            [
                ev("message", "a", None, Some(100)),
                msg("b"),
                msg("c"),
                msg("d")
            ]
        );
        assert_eq!(p.retry(), Some(300));
        assert_eq!(parse(b"retry:  7\ndata: a\n\n"), [msg("a")]);
        assert_eq!(
            parse(b"retry: 007\ndata: a\n\n"),
            [ev("message", "a", None, Some(7))]
        );
        assert_eq!(
            parse(b"retry: 99999999999999999999\ndata: a\n\n"),
            [msg("a")]
        );
        assert_eq!(parse_retry(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_retry(b"18446744073709551616"), None);
        assert_eq!(parse_retry("\u{0663}".as_bytes()), None);
    }

    #[test]
    fn unterminated_event_discarded() {
        assert_eq!(parse(b"data: a\n\ndata: b\n"), [msg("a")]);
        assert_eq!(parse(b"data: a\n\ndata: b"), [msg("a")]);
        let mut p = Parser::new();
        let mut out = Vec::new();
        p.feed(b"id: 1\n\ndata: b\nid: 2\n", &mut out);
        p.finish();
        p.feed(b"\xEF\xBB\xBFdata: c\n\n", &mut out);
        assert_eq!(out, [ev("message", "c", Some("1"), None)]);
    }

    #[test]
    fn split_utf8_and_invalid_utf8() {
        let s = "data: h\u{e9}llo \u{1F600}\nevent: \u{20AC}\n\n".as_bytes();
        let got = assert_chunking_independent(s);
        assert_eq!(got, [ev("\u{20AC}", "h\u{e9}llo \u{1F600}", None, None)]);
        // Invalid bytes become U+FFFD, one per maximal subpart (as Python's "replace" does).
        let got = assert_chunking_independent(b"data: a\xFFb\xE2\x82\ndata: \xF0\x9F\n\n");
        assert_eq!(got, [msg("a\u{FFFD}b\u{FFFD}\n\u{FFFD}")]);
        let got = parse(b"id: \xC3\ndata: x\n\n");
        assert_eq!(got, [ev("message", "x", Some("\u{FFFD}"), None)]);
    }

    #[test]
    fn field_name_without_colon_and_weird_names() {
        assert_eq!(parse(b"data\nevent\n\n"), [msg("")]);
        assert_eq!(parse(b" data: x\n\n"), []);
        assert_eq!(parse(b"data : x\n\n"), []);
    }
}
