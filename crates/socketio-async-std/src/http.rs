//! Long-polling over hyper 1 on async-net sockets (the request logic is shared:
//! `socketio_async::http1`).

use std::sync::Arc;

use engineio_proto::HttpResponse;
use rustls::ClientConfig;
use socketio_async::http1::Pool;
use socketio_async::proxy::ProxyOptions;
use socketio_async::runtime::{HttpRequest, TransportFailure};

use crate::stream::{HyperIo, connect};

pub(crate) async fn request(
    pool: Arc<Pool>,
    tls: Arc<ClientConfig>,
    proxy: Option<Arc<ProxyOptions>>,
    request: HttpRequest,
) -> Result<HttpResponse, TransportFailure> {
    let url = request.url.clone();
    let open = || async move { connect(&url, &tls, proxy.as_deref()).await.map(HyperIo) };
    socketio_async::http1::request(&pool, open, crate::spawn_detached, request).await
}
