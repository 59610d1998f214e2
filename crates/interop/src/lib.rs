//! One interop suite, every runtime: scenarios are `async fn(&Rt)` written once against
//! [`socketio_client`]; [`on_every_runtime!`] runs each under tokio (multi-thread runtime) and
//! under async-std (`async_std::task::block_on`). Timeouts and sleeps go through the runtime
//! under test, so a scenario never depends on one executor.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use socketio_client::{Error, Options, Runtime, Socket, SocketEvent};

pub use socketio_test_kit::node::NodeServer;

/// How long any one awaited step may take before the scenario fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// The runtime a scenario runs on.
#[derive(Clone)]
pub struct Rt {
    /// The adapter under test.
    pub runtime: Arc<dyn Runtime>,
    /// Its name, for messages.
    pub name: &'static str,
}

impl std::fmt::Debug for Rt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Rt {
    /// The tokio adapter (call inside a tokio runtime).
    pub fn tokio() -> Self {
        Self {
            runtime: socketio_tokio::TokioRuntime::new().shared(),
            name: "tokio",
        }
    }

    /// The async-std / smol adapter.
    pub fn async_std() -> Self {
        Self {
            runtime: socketio_async_std::AsyncStdRuntime::new()
                .expect("default TLS builds")
                .shared(),
            name: "async-std",
        }
    }

    /// `io()` on this runtime.
    pub fn io(&self, url: &str, options: Options) -> Result<Socket, Error> {
        socketio_client::io(url, options, self.runtime.clone())
    }

    /// Sleeps on this runtime's timers.
    pub async fn sleep(&self, d: Duration) {
        self.runtime.sleep_until(Instant::now() + d).await;
    }

    /// `fut`, or a panic naming `what` if it takes longer than [`WAIT`].
    pub async fn within<T>(&self, what: &str, fut: impl Future<Output = T>) -> T {
        let timer = self.runtime.sleep_until(Instant::now() + WAIT);
        match select(std::pin::pin!(fut), timer).await {
            Either::Left((v, _)) => v,
            Either::Right(_) => panic!("{}: timed out waiting for {what}", self.name),
        }
    }

    /// `fut`, or `None` if it takes longer than `d`.
    pub async fn timeout<T>(&self, d: Duration, fut: impl Future<Output = T>) -> Option<T> {
        let timer = self.runtime.sleep_until(Instant::now() + d);
        match select(std::pin::pin!(fut), timer).await {
            Either::Left((v, _)) => Some(v),
            Either::Right(_) => None,
        }
    }

    /// Waits for the next event `pick` accepts.
    pub async fn next_event<T>(
        &self,
        events: &mut (impl futures_util::Stream<Item = SocketEvent> + Unpin),
        mut pick: impl FnMut(SocketEvent) -> Option<T>,
    ) -> T {
        self.within("an event", async {
            loop {
                let event = events.next().await.expect("event stream open");
                if let Some(v) = pick(event) {
                    return v;
                }
            }
        })
        .await
    }

    /// Waits until the socket is connected (fails on a connect error).
    pub async fn connected(
        &self,
        socket: &Socket,
        events: &mut (impl futures_util::Stream<Item = SocketEvent> + Unpin),
    ) {
        if socket.connected() {
            return;
        }
        self.next_event(events, |e| match e {
            SocketEvent::Connect { .. } => Some(()),
            SocketEvent::ConnectError(e) => panic!("connect error: {e}"),
            _ => None,
        })
        .await;
    }
}

/// Runs a tokio test body.
pub fn run_tokio<F: Future<Output = ()>>(body: impl FnOnce(Rt) -> F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async { body(Rt::tokio()).await });
}

/// Runs an async-std test body.
pub fn run_async_std<F: Future<Output = ()>>(body: impl FnOnce(Rt) -> F) {
    async_std::task::block_on(async { body(Rt::async_std()).await });
}

/// Generates, for each `async fn name(rt: Rt)` listed, a `#[test]` per runtime:
/// `tokio::name` and `async_std::name`.
#[macro_export]
macro_rules! on_every_runtime {
    ($($name:ident),* $(,)?) => {
        mod tokio {
            $(#[test]
            fn $name() {
                $crate::run_tokio(super::$name)
            })*
        }
        mod async_std {
            $(#[test]
            fn $name() {
                $crate::run_async_std(super::$name)
            })*
        }
    };
}
