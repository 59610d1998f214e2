//! The Socket.IO layer of the kit: [`socketio_proto::Manager`] as a [`crate::SansIoClient`],
//! and [`SioServer`], a fake Socket.IO v5 server running as an [`crate::Application`] on the
//! fake Engine.IO server.

mod app;
mod client;
mod config;
mod script;
mod server;

pub use app::{AppClient, AppSim, SioApp, app_sim};
pub use config::{
    AckPolicy, ConnectRefusal, ConnectRequest, Middleware, NamespaceConfig, SioConfig,
};
pub use script::{SioSim, sio_server_config, sio_sim};
pub use server::{ClientAck, JoinOutcome, Joined, Received, ServerEmit, SioServer};
