//! One long-polling request over hyper 1, on a kept-alive connection when one is idle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use engineio_proto::HttpResponse;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use socketio_client::proxy::ProxyOptions;
use socketio_client::runtime::{HttpRequest, TransportFailure};

use crate::stream::{connect, failure};

/// Idle connections per origin; long-polling needs at most two (one GET, one POST).
const MAX_IDLE: usize = 2;

#[derive(Default)]
pub(crate) struct Pool {
    idle: Mutex<HashMap<String, Vec<SendRequest<Full<Bytes>>>>>,
}

fn origin(url: &url::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Pool {
    fn take(&self, origin: &str) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(origin)?;
        while let Some(sender) = list.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    fn put(&self, origin: String, sender: SendRequest<Full<Bytes>>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.entry(origin).or_default();
        if list.len() < MAX_IDLE {
            list.push(sender);
        }
    }
}

pub(crate) async fn request(
    pool: Arc<Pool>,
    tls: Arc<ClientConfig>,
    proxy: Option<Arc<ProxyOptions>>,
    request: HttpRequest,
) -> Result<HttpResponse, TransportFailure> {
    let origin = origin(&request.url);
    let mut sender = match pool.take(&origin) {
        Some(sender) => sender,
        None => {
            let stream = connect(&request.url, &tls, proxy.as_deref()).await?;
            let (sender, connection) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| failure("http handshake", e))?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::trace!(error = %e, "http connection ended");
                }
            });
            sender
        }
    };
    sender
        .ready()
        .await
        .map_err(|e| failure("http connection", e))?;
    let mut target = request.url.path().to_owned();
    if let Some(q) = request.url.query() {
        target.push('?');
        target.push_str(q);
    }
    let host = match request.url.port() {
        Some(port) => format!("{}:{port}", request.url.host_str().unwrap_or("")),
        None => request.url.host_str().unwrap_or("").to_owned(),
    };
    let mut builder = hyper::Request::builder()
        .method(if request.post { "POST" } else { "GET" })
        .uri(target)
        .header("host", host)
        .header("accept", "*/*");
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let http_request = builder
        .body(Full::new(request.body))
        .map_err(|e| failure("http request", e))?;
    let response = sender
        .send_request(http_request)
        .await
        .map_err(|e| failure("http", e))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| matches!(name.as_str(), "set-cookie" | "date"))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| failure("http body", e))?
        .to_bytes();
    if !sender.is_closed() {
        pool.put(origin, sender);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}
