//! Whole-session transcripts: the Engine.IO client against the fake server over a seeded link,
//! on virtual time.

mod support;

mod batching;
mod close;
mod cookies;
mod determinism;
mod handshake;
mod heartbeat;
mod kit;
mod rogue;
mod server;
mod upgrade;
