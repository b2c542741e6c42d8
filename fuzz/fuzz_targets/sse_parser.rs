//! `sse::Parser`: arbitrary bytes fed in fuzzer-chosen chunks (see `common::split`) must give the
//! same events and final state as the whole stream fed at once, and both must equal a spec-literal
//! reference parser run on the whole stream decoded first. After `finish()` the parser must parse
//! the same stream again into the same events (ids aside: `last_event_id` carries over).
#![no_main]

mod common;

use _core::sse::{Event, Parser};
use libfuzzer_sys::fuzz_target;

fn run(p: &mut Parser, chunks: &[&[u8]]) -> Vec<Event> {
    let mut out = Vec::new();
    for c in chunks {
        p.feed(c, &mut out);
    }
    out
}

fuzz_target!(|input: &[u8]| {
    let split = common::split(input);
    let stream = split.stream;

    let mut whole = Parser::new();
    let whole_events = run(&mut whole, &[stream]);

    let chunks = split.chunks();
    let mut chunked = Parser::new();
    let chunked_events = run(&mut chunked, &chunks);
    assert_eq!(chunked_events, whole_events, "chunking changed the events");
    assert_eq!(
        chunked.last_event_id(),
        whole.last_event_id(),
        "chunking changed last_event_id"
    );
    assert_eq!(chunked.retry(), whole.retry(), "chunking changed retry");

    let reference = common::ref_parse(stream);
    assert_eq!(
        whole_events, reference.events,
        "events differ from the spec reference"
    );
    assert_eq!(
        whole.last_event_id(),
        reference.last_event_id.as_deref(),
        "last_event_id differs from the spec reference"
    );
    assert_eq!(
        whole.retry(),
        reference.retry,
        "retry differs from the spec reference"
    );

    // A new stream on the same parser: same events, ids aside.
    chunked.finish();
    let again = run(&mut chunked, &chunks);
    let strip_ids = |v: &[Event]| -> Vec<Event> {
        v.iter()
            .map(|e| Event {
                id: None,
                ..e.clone()
            })
            .collect()
    };
    assert_eq!(
        strip_ids(&again),
        strip_ids(&whole_events),
        "a second stream after finish() parsed differently"
    );
});
