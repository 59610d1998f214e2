//! Offline tests of the Engine.IO client: the codec against the reference's vectors, request
//! building, options, cookies, and the state machine driven by hand, transmit by transmit.
//!
//! One test binary with a module per concern (linking one binary is cheaper than ten).

mod support;

mod bad_input;
mod close;
mod codec;
mod codec_props;
mod config;
mod cookies;
mod eio3;
mod heartbeat;
mod polling;
mod requests;
mod security;
mod time;
mod transports;
mod upgrade;
mod websocket;
