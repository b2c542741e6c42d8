//! Line splitting for `text/event-stream`, shared by the parser and the tap.
//!
//! A line ends in CRLF, LF or CR. A CR that ends one chunk and an LF that starts the next are one
//! CRLF ending, so a CR at the end of a chunk ends its line at once (no waiting for the next chunk)
//! and the splitter remembers to swallow a leading LF. CR and LF are ASCII and never occur inside a
//! multi-byte UTF-8 sequence, so splitting raw bytes before decoding gives the same lines as
//! decoding first, which is what lets every later step work on bytes and decode lossily at the end.

use memchr::memchr2;

/// The UTF-8 encoding of U+FEFF, which the UTF-8 decode algorithm strips once at stream start.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug)]
pub(crate) struct Lines {
    /// Bytes of the line that the last chunk left unterminated.
    partial: Vec<u8>,
    /// The last chunk ended in CR: an LF at the start of the next one belongs to that ending.
    after_cr: bool,
    /// No line has been completed yet, so the next one may start with a BOM.
    at_start: bool,
}

impl Default for Lines {
    fn default() -> Self {
        Lines {
            partial: Vec::new(),
            after_cr: false,
            at_start: true,
        }
    }
}

impl Lines {
    /// Whether the previous chunk ended in CR whose possible LF has not been seen yet.
    #[inline]
    pub(crate) fn after_cr(&self) -> bool {
        self.after_cr
    }

    /// Calls `on_line(line, end)` for each line that `chunk` completes, in order: `line` is the
    /// line's content without its ending (and without a stream-leading BOM), `end` the offset in
    /// `chunk` just past the line's ending. A leading LF that completes a CRLF split across chunks
    /// is skipped without a call.
    #[inline]
    pub(crate) fn feed(&mut self, chunk: &[u8], mut on_line: impl FnMut(&[u8], usize)) {
        if chunk.is_empty() {
            return;
        }
        let mut i = 0;
        if self.after_cr {
            self.after_cr = false;
            if chunk[0] == b'\n' {
                i = 1;
            }
        }
        let mut line_start = i;
        while let Some(off) = memchr2(b'\r', b'\n', &chunk[i..]) {
            let p = i + off;
            let end = if chunk[p] == b'\n' {
                p + 1
            } else if p + 1 == chunk.len() {
                self.after_cr = true;
                p + 1
            } else if chunk[p + 1] == b'\n' {
                p + 2
            } else {
                p + 1
            };
            if self.partial.is_empty() {
                on_line(strip_bom(&mut self.at_start, &chunk[line_start..p]), end);
            } else {
                self.partial.extend_from_slice(&chunk[line_start..p]);
                on_line(strip_bom(&mut self.at_start, &self.partial), end);
                self.partial.clear();
            }
            i = end;
            line_start = end;
        }
        self.partial.extend_from_slice(&chunk[line_start..]);
    }

    /// Drops an unterminated line and gets ready for a new stream (which may start with a BOM).
    pub(crate) fn reset(&mut self) {
        self.partial.clear();
        self.after_cr = false;
        self.at_start = true;
    }
}

#[inline]
fn strip_bom<'a>(at_start: &mut bool, line: &'a [u8]) -> &'a [u8] {
    if *at_start {
        *at_start = false;
        line.strip_prefix(BOM).unwrap_or(line)
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<(Vec<u8>, usize, usize)> {
        let mut lines = Lines::default();
        let mut out = Vec::new();
        for (n, chunk) in chunks.iter().enumerate() {
            lines.feed(chunk, |line, end| out.push((line.to_vec(), n, end)));
        }
        out
    }

    #[test]
    fn all_three_endings() {
        let got = split(&[b"a\r\nb\nc\rd"]);
        let lines: Vec<&[u8]> = got.iter().map(|(l, _, _)| l.as_slice()).collect();
        assert_eq!(lines, [&b"a"[..], b"b", b"c"]);
        assert_eq!(got.iter().map(|g| g.2).collect::<Vec<_>>(), [3, 5, 7]);
    }

    #[test]
    fn crlf_split_across_chunks_is_one_ending() {
        let got = split(&[b"a\r", b"\nb\r", b"\r", b"\n"]);
        let lines: Vec<&[u8]> = got.iter().map(|(l, _, _)| l.as_slice()).collect();
        // "a" CRLF, "b" CR, "" CRLF: three lines, the LFs are swallowed.
        assert_eq!(lines, [&b"a"[..], b"b", b""]);
        assert_eq!(got[0], (b"a".to_vec(), 0, 2));
        assert_eq!(got[1], (b"b".to_vec(), 1, 3));
        assert_eq!(got[2], (b"".to_vec(), 2, 1));
    }

    #[test]
    fn lone_lf_after_cr_in_same_chunk_is_crlf_but_lf_lf_is_two_lines() {
        let got = split(&[b"a\r\n\nb\n"]);
        let lines: Vec<&[u8]> = got.iter().map(|(l, _, _)| l.as_slice()).collect();
        assert_eq!(lines, [&b"a"[..], b"", b"b"]);
    }

    #[test]
    fn empty_chunk_keeps_pending_cr() {
        let got = split(&[b"a\r", b"", b"\nb\n"]);
        let lines: Vec<&[u8]> = got.iter().map(|(l, _, _)| l.as_slice()).collect();
        assert_eq!(lines, [&b"a"[..], b"b"]);
    }

    #[test]
    fn bom_stripped_once_even_when_split() {
        let got = split(&[b"\xEF", b"\xBB", b"\xBF\xEF\xBB\xBFx\n", b"\xEF\xBB\xBFy\n"]);
        let lines: Vec<&[u8]> = got.iter().map(|(l, _, _)| l.as_slice()).collect();
        assert_eq!(lines, [&b"\xEF\xBB\xBFx"[..], b"\xEF\xBB\xBFy"]);
    }

    #[test]
    fn partial_line_joined() {
        let got = split(&[b"da", b"ta: x", b"y\n"]);
        assert_eq!(got, [(b"data: xy".to_vec(), 2, 2)]);
    }
}
