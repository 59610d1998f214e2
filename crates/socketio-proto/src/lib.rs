//! A sans-IO Socket.IO v5 client.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
