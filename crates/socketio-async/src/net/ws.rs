//! One WebSocket over async-tungstenite, polled by the driver (see
//! [`crate::runtime::WebSocket`]).

use std::sync::Arc;
use std::task::{Context, Poll};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use async_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use bytes::Bytes;
use engineio_proto::WsFrame;
use futures_util::{Sink, Stream as _};
use rustls::ClientConfig;

use super::stream::{Stream, connect};
use super::{Net, failure};
use crate::proxy::ProxyOptions;
use crate::runtime::{IoErrorKind, TransportFailure, WebSocket, WsConnection, WsRequest};

/// Bytes read from the socket at once. tungstenite's default (128 KiB, allocated up front for
/// every connection) made an idle client cost about 150 KiB of resident memory; Engine.IO
/// frames are small, and a larger frame still grows the buffer as it needs.
const READ_BUFFER: usize = 4 * 1024;

/// Bytes buffered before a write goes to the socket. Frames are flushed as soon as the driver
/// has handed over what it had, so this only batches frames of one turn.
const WRITE_BUFFER: usize = 16 * 1024;

fn config(max_message: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
}

pub(crate) async fn open<N: Net + ?Sized>(
    net: &N,
    tls: &Arc<ClientConfig>,
    proxy: Option<&ProxyOptions>,
    request: WsRequest,
) -> Result<WsConnection, TransportFailure> {
    let mut handshake = request
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| failure(IoErrorKind::Other, "websocket request", e))?;
    for (name, value) in &request.headers {
        let name: HeaderName = name
            .parse()
            .map_err(|e| failure(IoErrorKind::Other, "header name", e))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| failure(IoErrorKind::Other, "header value", e))?;
        handshake.headers_mut().append(name, value);
    }
    if !request.protocols.is_empty() {
        let value = HeaderValue::from_str(&request.protocols.join(", "))
            .map_err(|e| failure(IoErrorKind::Other, "protocols", e))?;
        handshake
            .headers_mut()
            .insert("sec-websocket-protocol", value);
    }
    let stream = connect(net, &request.url, tls, proxy).await?;
    let (ws, response) = async_tungstenite::client_async_with_config(
        handshake,
        stream,
        Some(config(request.max_message)),
    )
    .await
    // tungstenite's error is kept as the source: a refused handshake's HTTP response (its
    // status) is in it, by variant.
    .map_err(|e| failure(ws_kind(&e), "websocket", &e).with_source(e))?;
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| matches!(name.as_str(), "set-cookie" | "date"))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    Ok(WsConnection {
        headers,
        socket: Box::new(Socket(ws)),
    })
}

struct Socket(WebSocketStream<Stream>);

fn write_failure(e: WsError) -> TransportFailure {
    failure(ws_kind(&e), "websocket send", e)
}

/// The kind of a tungstenite error.
fn ws_kind(e: &WsError) -> IoErrorKind {
    use async_tungstenite::tungstenite::error::ProtocolError;
    match e {
        WsError::Io(e) => IoErrorKind::of(e),
        WsError::ConnectionClosed
        | WsError::AlreadyClosed
        | WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => IoErrorKind::Closed,
        WsError::Capacity(_) => IoErrorKind::TooLarge,
        WsError::Tls(_) => IoErrorKind::Tls,
        WsError::Http(_) | WsError::HttpFormat(_) | WsError::Url(_) | WsError::Protocol(_) => {
            IoErrorKind::Protocol
        }
        _ => IoErrorKind::Other,
    }
}

impl WebSocket for Socket {
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<WsFrame, TransportFailure>>> {
        loop {
            return match std::pin::Pin::new(&mut self.0).poll_next(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Ready(Some(Ok(Message::Text(text)))) => {
                    Poll::Ready(Some(Ok(WsFrame::Text(Bytes::from(text)))))
                }
                Poll::Ready(Some(Ok(Message::Binary(data)))) => {
                    Poll::Ready(Some(Ok(WsFrame::Binary(data))))
                }
                Poll::Ready(Some(Ok(Message::Close(_)))) => Poll::Ready(None),
                // Pings are answered by tungstenite itself.
                Poll::Ready(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {
                    continue;
                }
                // The end of a close handshake, seen from either side.
                Poll::Ready(Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed))) => {
                    Poll::Ready(None)
                }
                Poll::Ready(Some(Err(e))) => {
                    Poll::Ready(Some(Err(failure(ws_kind(&e), "websocket", e))))
                }
            };
        }
    }

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        std::pin::Pin::new(&mut self.0)
            .poll_ready(cx)
            .map_err(write_failure)
    }

    fn start_send(&mut self, frame: WsFrame) -> Result<(), TransportFailure> {
        let message = match frame {
            // The engine's text frames are valid UTF-8 by construction.
            WsFrame::Text(text) => Message::Text(
                Utf8Bytes::try_from(text)
                    .map_err(|e| failure(IoErrorKind::Other, "websocket text", e))?,
            ),
            WsFrame::Binary(data) => Message::Binary(data),
        };
        std::pin::Pin::new(&mut self.0)
            .start_send(message)
            .map_err(write_failure)
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        std::pin::Pin::new(&mut self.0)
            .poll_flush(cx)
            .map_err(write_failure)
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        match std::pin::Pin::new(&mut self.0).poll_close(cx) {
            Poll::Ready(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
                Poll::Ready(Ok(()))
            }
            other => other.map_err(write_failure),
        }
    }
}
