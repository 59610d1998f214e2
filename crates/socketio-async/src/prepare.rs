//! [`BeforeConnect`]: an async hook that runs before every connection and reconnection.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use engineio_proto::TransportKind;

use crate::runtime::BoxFuture;

/// The error a [`BeforeConnect`] hook may fail with: any error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the next connection attempt will use, for a [`BeforeConnect`] hook to change.
///
/// Changes last: the next attempt starts from what this one used.
#[derive(Clone)]
#[non_exhaustive]
pub struct ConnectAttempt {
    /// 0 for a connection (the first one, or one opened again after `close()`), n for the
    /// n-th reconnection attempt in a row.
    pub attempt: u32,
    /// The server: its scheme, host and port are used (the path is the `path` option's).
    pub url: url::Url,
    /// The query of the handshake (and every request).
    pub query: Vec<(String, String)>,
    /// The headers of every HTTP request and of the WebSocket handshake.
    pub extra_headers: Vec<(String, String)>,
    /// The transports, in the order they are tried.
    pub transports: Vec<TransportKind>,
    /// The CONNECT payload of each namespace that has one, by namespace (e.g. `"/"`). Set
    /// an entry to change (or give) a namespace's auth; a namespace without a socket is
    /// ignored. Auths must be JSON objects.
    pub auth: BTreeMap<String, serde_json::Value>,
}

impl fmt::Debug for ConnectAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Query values, header values and auths may be secrets: names only.
        let names = |pairs: &[(String, String)]| -> Vec<String> {
            pairs.iter().map(|(k, _)| k.clone()).collect()
        };
        f.debug_struct("ConnectAttempt")
            .field("attempt", &self.attempt)
            .field("url", &engineio_proto::redact::display_url(&self.url))
            .field("query", &names(&self.query))
            .field("extra_headers", &names(&self.extra_headers))
            .field("transports", &self.transports)
            .field("auth", &self.auth.keys().collect::<Vec<_>>())
            .finish()
    }
}

type HookFn =
    dyn Fn(ConnectAttempt) -> BoxFuture<'static, Result<ConnectAttempt, BoxError>> + Send + Sync;

/// An async hook run before every connection and every reconnection attempt, e.g. to
/// refresh a token: it gets what the attempt would use and returns it, changed as it likes
/// (auth, query, headers, transports, even the server). Set with
/// [`crate::Options::before_connect`].
///
/// It runs on the runtime while the client waits for it (the client's task goes on with
/// everything else), within the connection `timeout`. An error fails the attempt like a
/// connection that could not open: `connect_error` on the sockets, the manager's `error`,
/// and the next reconnection attempt after the backoff delay.
#[derive(Clone)]
pub struct BeforeConnect(pub(crate) Arc<HookFn>);

impl BeforeConnect {
    /// A hook from an async function of the attempt.
    pub fn new<F, Fut>(hook: F) -> Self
    where
        F: Fn(ConnectAttempt) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ConnectAttempt, BoxError>> + Send + 'static,
    {
        Self(Arc::new(move |attempt| Box::pin(hook(attempt))))
    }
}

impl fmt::Debug for BeforeConnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BeforeConnect")
    }
}
