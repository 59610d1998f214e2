//! One WebSocket over async-tungstenite.

use std::sync::Arc;

use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::http::HeaderValue;
use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use async_tungstenite::{WebSocketReceiver, WebSocketSender};
use bytes::Bytes;
use engineio_proto::WsFrame;
use futures_util::StreamExt;
use rustls::ClientConfig;
use socketio_async::proxy::ProxyOptions;
use socketio_async::runtime::{
    BoxFuture, TransportFailure, WsConnection, WsRequest, WsSink, WsStream,
};

use crate::stream::{Stream, connect, failure};

/// Bytes read from the socket at once. tungstenite's default (128 KiB, allocated up front for
/// every connection) made an idle client cost about 150 KiB of resident memory; Engine.IO
/// frames are small, and a larger frame still grows the buffer as it needs.
const READ_BUFFER: usize = 4 * 1024;

fn config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(READ_BUFFER)
}

pub(crate) async fn open(
    tls: Arc<ClientConfig>,
    proxy: Option<Arc<ProxyOptions>>,
    request: WsRequest,
) -> Result<WsConnection, TransportFailure> {
    let mut handshake = request
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| failure("websocket request", e))?;
    for (name, value) in &request.headers {
        let name: async_tungstenite::tungstenite::http::HeaderName =
            name.parse().map_err(|e| failure("header name", e))?;
        let value = HeaderValue::from_str(value).map_err(|e| failure("header value", e))?;
        handshake.headers_mut().append(name, value);
    }
    if !request.protocols.is_empty() {
        let value = HeaderValue::from_str(&request.protocols.join(", "))
            .map_err(|e| failure("protocols", e))?;
        handshake
            .headers_mut()
            .insert("sec-websocket-protocol", value);
    }
    let stream = connect(&request.url, &tls, proxy.as_deref()).await?;
    let (ws, response) =
        async_tungstenite::client_async_with_config(handshake, stream, Some(config()))
            .await
            .map_err(|e| failure("websocket", e))?;
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| matches!(name.as_str(), "set-cookie" | "date"))
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let (sink, stream) = ws.split();
    Ok(WsConnection {
        headers,
        sink: Box::new(Sink(sink)),
        stream: Box::new(Reader(stream)),
    })
}

struct Sink(WebSocketSender<Stream>);

impl WsSink for Sink {
    fn send(&mut self, frame: WsFrame) -> BoxFuture<'_, Result<(), TransportFailure>> {
        let message = match frame {
            // The engine's text frames are valid UTF-8 by construction.
            WsFrame::Text(text) => {
                match async_tungstenite::tungstenite::Utf8Bytes::try_from(text) {
                    Ok(text) => Message::Text(text),
                    Err(e) => return Box::pin(async move { Err(failure("websocket text", e)) }),
                }
            }
            WsFrame::Binary(data) => Message::Binary(data),
        };
        Box::pin(async move {
            self.0
                .send(message)
                .await
                .map_err(|e| failure("websocket send", e))
        })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _ = self.0.close(None).await;
        })
    }
}

struct Reader(WebSocketReceiver<Stream>);

impl WsStream for Reader {
    fn next(&mut self) -> BoxFuture<'_, Option<Result<WsFrame, TransportFailure>>> {
        Box::pin(async move {
            loop {
                return match self.0.next().await? {
                    Ok(Message::Text(text)) => Some(Ok(WsFrame::Text(Bytes::from(text)))),
                    Ok(Message::Binary(data)) => Some(Ok(WsFrame::Binary(data))),
                    Ok(Message::Close(_)) => None,
                    // Pings are answered by tungstenite itself.
                    Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
                    Err(e) => Some(Err(failure("websocket", e))),
                };
            }
        })
    }
}
