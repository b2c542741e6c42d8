"""Streaming: relay cost of a fixed ~50-event OpenAI stream with usage, and paced streams.

The mock runs with `--chunks 47`: a role delta, 47 content deltas, a finish delta and the usage chunk
(the caller asks `stream_options.include_usage`) = 50 events, then `[DONE]`. Paced: 64 deltas 20 ms apart
(`"mock"` knobs in the body), at 1 and 64 connections: added time to the first event, added gap per
event, and how many concurrent streams ran without a stall (a gap over 100 ms). The mock stamps each
chunk with its send time (knob `stamp`), so the relay delay of every chunk is measured, not inferred from
the 20 ms gaps and their timer jitter.
"""

from suite.scenarios.base import Scenario, chat_body, register

STREAM = chat_body(200, stream=True, stream_options={"include_usage": True})
PACED = chat_body(
    200, stream=True, stream_options={"include_usage": True}, mock={"chunks": 64, "interval_ms": 20, "stamp": True}
)

register(
    Scenario("stream-50/c1-one-cpu", "stream-50", STREAM, connections=1, layout="one-cpu"),
    Scenario("stream-50/c64", "stream-50", STREAM, connections=64, tags=("cpu-stream",)),
    Scenario("paced/c1", "paced", PACED, load="stream", connections=1, layout="split", duration_scale=1.5),
    Scenario("paced/c64", "paced", PACED, load="stream", connections=64, duration_scale=1.5, tags=("paced",)),
)
