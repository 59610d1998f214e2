//! The Socket.IO manager against the fake Socket.IO server over a seeded link, on virtual
//! time: namespaces, buffering, auth, acks, retries, reconnection, recovery, lossy links.

mod support;

mod acks;
mod auth;
mod buffering;
mod disconnect;
mod kit;
mod lossy;
mod multiplex;
mod props;
mod reconnection;
mod recovery;
mod rejoin;
mod retries;
mod volatile;
