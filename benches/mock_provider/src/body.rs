//! The one response body type: a whole buffer, or a paced sequence of frames (SSE events, or a
//! body cut short) that owns the `Flight` guard, so dropping it mid-way counts as a cancellation.

use crate::record::Flight;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// Stamped into stream chunks (knob `stamp`); the 16 zeros become the wall-clock µs at send time.
pub const STAMP_FIELD: &str = r#""mock_sent_us":"0000000000000000","#;
const STAMP_KEY: &[u8] = br#""mock_sent_us":""#;

/// `data` with its stamp placeholder (if any) set to now, in µs since the epoch.
fn stamped(data: Bytes) -> Bytes {
    let Some(at) = memfind(&data, STAMP_KEY) else {
        return data;
    };
    let us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let digits = format!("{us:016}");
    let mut out = data.to_vec();
    let start = at + STAMP_KEY.len();
    out[start..start + 16].copy_from_slice(&digits.as_bytes()[digits.len() - 16..]);
    out.into()
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// One frame, written after `delay`.
pub struct Step {
    pub delay: Duration,
    pub data: Bytes,
}

/// How a paced body ends once its steps run out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Normal end of a stream (counts as `streams_completed`).
    Stream,
    /// Abort the connection mid-body: hyper closes the socket without a terminating chunk.
    Abort,
}

pub struct Paced {
    steps: std::vec::IntoIter<Step>,
    pending: Option<Bytes>,
    sleep: Option<Pin<Box<Sleep>>>,
    end: End,
    exact_len: Option<u64>,
    yielded: bool,
    flight: Flight,
    /// Overwrite each frame's send-time placeholder as it goes out (knob `stamp`).
    pub stamp: bool,
}

pub enum MockBody {
    Full(Option<Bytes>),
    Paced(Box<Paced>),
}

impl MockBody {
    pub fn full(b: impl Into<Bytes>) -> Self {
        MockBody::Full(Some(b.into()))
    }

    pub fn paced(steps: Vec<Step>, end: End, exact_len: Option<u64>, flight: Flight) -> Self {
        MockBody::Paced(Box::new(Paced {
            steps: steps.into_iter(),
            pending: None,
            sleep: None,
            end,
            exact_len,
            yielded: false,
            flight,
            stamp: false,
        }))
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            MockBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Paced(p) => p.poll_next(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            MockBody::Paced(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            MockBody::Paced(p) => p
                .exact_len
                .map_or_else(SizeHint::default, SizeHint::with_exact),
        }
    }
}

impl Paced {
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        loop {
            if let Some(sleep) = self.sleep.as_mut() {
                std::task::ready!(sleep.as_mut().poll(cx));
                self.sleep = None;
            }
            if let Some(data) = self.pending.take() {
                let data = if self.stamp { stamped(data) } else { data };
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            match self.steps.next() {
                Some(step) => {
                    if !step.delay.is_zero() {
                        self.sleep = Some(Box::pin(tokio::time::sleep(step.delay)));
                    }
                    self.pending = Some(step.data);
                }
                None => return self.finish(cx),
            }
        }
    }

    fn finish(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.end {
            End::Stream => {
                self.flight.stream_completed();
                Poll::Ready(None)
            }
            End::Abort if !self.yielded => {
                // hyper drops unflushed output when a body fails: yield once so it flushes what
                // we wrote so far, then fail.
                self.yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            End::Abort => {
                self.flight.finish();
                Poll::Ready(Some(Err(std::io::Error::other("mock: drop_after"))))
            }
        }
    }
}
