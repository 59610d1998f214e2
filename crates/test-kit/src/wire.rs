//! What travels between the client side and the fake server, in the server's terms.

use std::fmt;

use bytes::Bytes;
use engineio_proto::{Header, HttpResponse, WsFrame};
use url::Url;

/// Names one HTTP request (one exchange) for the whole simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Names one WebSocket connection for the whole simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ws{}", self.0)
    }
}

/// The HTTP methods Engine.IO uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// The receiving long-poll (and the handshake).
    Get,
    /// The sending long-poll.
    Post,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// An HTTP request as the server receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The exchange; the response names it.
    pub id: RequestId,
    /// GET or POST.
    pub method: Method,
    /// The full URL.
    pub url: Url,
    /// The request headers.
    pub headers: Vec<Header>,
    /// The body (empty for a GET).
    pub body: Bytes,
}

impl HttpRequest {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The value of query parameter `name`, if present.
    pub fn query(&self, name: &str) -> Option<String> {
        query(&self.url, name)
    }
}

/// What the server wants sent to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerOutput {
    /// Answer an HTTP request.
    HttpResponse {
        /// The request answered.
        request: RequestId,
        /// The response.
        response: HttpResponse,
    },
    /// Drop an HTTP request's connection without answering (the client sees a request error).
    HttpAbort {
        /// The request dropped.
        request: RequestId,
    },
    /// Accept a WebSocket handshake (`101 Switching Protocols`).
    WsAccept {
        /// The connection.
        conn: ConnId,
        /// Response headers (cookies).
        headers: Vec<Header>,
    },
    /// Refuse a WebSocket handshake with an HTTP error.
    WsReject {
        /// The connection.
        conn: ConnId,
        /// The HTTP status.
        status: u16,
        /// The response body.
        body: Bytes,
    },
    /// Send a frame.
    WsSend {
        /// The connection.
        conn: ConnId,
        /// The frame.
        frame: WsFrame,
    },
    /// Close the WebSocket cleanly (close frame).
    WsClose {
        /// The connection.
        conn: ConnId,
    },
    /// Drop the WebSocket's TCP connection without a close frame.
    WsAbort {
        /// The connection.
        conn: ConnId,
    },
}

/// The value of header `name` (case-insensitive) in `headers`.
pub fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The value of query parameter `name` in `url`.
pub fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
