//! One long-polling request over hyper 1's HTTP/1 client connection, on a kept-alive
//! connection when one is idle. The driver polls the request's future itself; hyper's
//! connection task (which reads and writes the socket for it) is spawned.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures_util::io::{AsyncRead, AsyncWrite};

use bytes::Bytes;
use engineio_proto::HttpResponse;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::client::conn::http1::{self, SendRequest};

use crate::runtime::{BoxFuture, HttpRequest, IoErrorKind, TransportFailure};

use super::failure;

/// The kind of a hyper error.
fn hyper_kind(e: &hyper::Error) -> IoErrorKind {
    if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
        IoErrorKind::Closed
    } else if e.is_timeout() {
        IoErrorKind::Timeout
    } else if e.is_parse() || e.is_parse_status() {
        IoErrorKind::Protocol
    } else {
        IoErrorKind::Other
    }
}

/// Idle connections per origin; long-polling needs at most two (one GET, one POST).
const MAX_IDLE: usize = 2;

/// Idle HTTP/1 connections, by origin.
#[derive(Default)]
pub struct Pool {
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

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").finish_non_exhaustive()
    }
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

/// Performs `request`, reusing an idle connection of `pool` or opening one with `connect`;
/// `spawn` runs the new connection's background task.
pub(crate) async fn request<IO, C, F>(
    pool: &Pool,
    connect: C,
    spawn: impl FnOnce(BoxFuture<'static, ()>),
    request: HttpRequest,
) -> Result<HttpResponse, TransportFailure>
where
    C: FnOnce() -> F,
    F: Future<Output = Result<IO, TransportFailure>>,
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let origin = origin(&request.url);
    let request_max_body = request.max_body;
    let mut sender = match pool.take(&origin) {
        Some(sender) => sender,
        None => {
            let io = connect().await?;
            let (sender, connection) = http1::handshake(io)
                .await
                .map_err(|e| failure(hyper_kind(&e), "http handshake", e))?;
            spawn(Box::pin(async move {
                if let Err(e) = connection.await {
                    tracing::trace!(error = %e, "http connection ended");
                }
            }));
            sender
        }
    };
    sender
        .ready()
        .await
        .map_err(|e| failure(hyper_kind(&e), "http connection", e))?;
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
        .map_err(|e| failure(IoErrorKind::Other, "http request", e))?;
    let response = sender
        .send_request(http_request)
        .await
        .map_err(|e| failure(hyper_kind(&e), "http", e))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| matches!(name.as_str(), "set-cookie" | "date"))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let max_body = request_max_body;
    let body = Limited::new(response.into_body(), max_body)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<LengthLimitError>() {
                failure(
                    IoErrorKind::TooLarge,
                    "http body",
                    format_args!("larger than {max_body} bytes"),
                )
            } else {
                failure(IoErrorKind::Closed, "http body", e)
            }
        })?
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

/// Lets hyper 1 read and write a `futures-io` stream.
pub(crate) struct HyperIo<T>(pub(crate) T);

impl<T: AsyncRead + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // Read into initialised memory and copy: the zero-copy path needs unsafe code.
        let mut chunk = [0u8; 16 * 1024];
        let room = buf.remaining().min(chunk.len());
        match Pin::new(&mut self.get_mut().0).poll_read(cx, &mut chunk[..room]) {
            Poll::Ready(Ok(n)) => {
                buf.put_slice(&chunk[..n]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_close(cx)
    }
}
