//! Long-polling over hyper 1 on tokio sockets (the request logic is shared:
//! `socketio_async::http1`).

use std::sync::Arc;

use engineio_proto::HttpResponse;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use socketio_async::http1::Pool;
use socketio_async::proxy::ProxyOptions;
use socketio_async::runtime::{HttpRequest, TransportFailure};

use crate::stream::connect;

pub(crate) async fn request(
    pool: Arc<Pool>,
    tls: Arc<ClientConfig>,
    proxy: Option<Arc<ProxyOptions>>,
    request: HttpRequest,
) -> Result<HttpResponse, TransportFailure> {
    let url = request.url.clone();
    let open = || async move {
        connect(&url, &tls, proxy.as_deref())
            .await
            .map(TokioIo::new)
    };
    socketio_async::http1::request(&pool, open, |task| drop(tokio::spawn(task)), request).await
}
