//! Tests of the pure-Rust client against a local server.
