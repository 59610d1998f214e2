//! A small HTTP/1.1 client for long-polling: one request per connection at a time, written
//! and read without blocking once connected, kept alive for the next request.
//!
//! The engine never has more than one GET and one POST in flight per transport, so a
//! transport needs at most two connections; the response bodies are Engine.IO payloads sent
//! by the server with a `Content-Length` (chunked and read-until-close bodies are read too,
//! for proxies that rewrite them).

use std::io::{self, Read, Write};

use bytes::Bytes;
use engineio_proto::{Header, HttpResponse};
use url::Url;

use crate::net::Stream;

/// The largest response body read, in bytes: 64 MiB, as the async adapters and tungstenite's
/// message limit, so both transports take the same most.
pub(crate) const MAX_RESPONSE_BODY: usize = 64 << 20;

/// The largest response head read.
const MAX_HEAD: usize = 64 * 1024;

/// The bytes of a request for `url`.
pub(crate) fn request_bytes(post: bool, url: &Url, headers: &[Header], body: &[u8]) -> Vec<u8> {
    let mut target = url.path().to_owned();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_owned(),
    };
    let method = if post { "POST" } else { "GET" };
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(
        format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n").as_bytes(),
    );
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if post {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// How the body's end is known.
#[derive(Debug, Clone, Copy)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// A parsed response head.
#[derive(Debug)]
struct Head {
    status: u16,
    headers: Vec<Header>,
    framing: Framing,
    keep_alive: bool,
    /// Where the body starts in the input buffer.
    body_start: usize,
}

/// One request on one connection, advanced whenever its socket may be ready.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) stream: Stream,
    /// Where it goes, for a retry.
    pub(crate) url: Url,
    /// The request, for writing and for one retry on a fresh connection.
    request: Vec<u8>,
    written: usize,
    input: Vec<u8>,
    head: Option<Head>,
    /// Whether the connection served an earlier request: the server may have closed it
    /// while it was idle, which is worth one retry, not a failed request.
    pub(crate) reused: bool,
}

/// Where an exchange stands.
#[derive(Debug)]
pub(crate) enum Step {
    /// Waiting for the socket.
    Pending,
    /// The response, and whether the connection can take another request.
    Done(HttpResponse, bool),
    /// The request failed; `retry` when it failed before any answer on a reused connection.
    Failed { error: String, retry: bool },
}

impl Exchange {
    pub(crate) fn new(stream: Stream, url: Url, request: Vec<u8>, reused: bool) -> Self {
        Self {
            stream,
            url,
            request,
            written: 0,
            input: Vec::new(),
            head: None,
            reused,
        }
    }

    /// The request bytes, for a retry.
    pub(crate) fn into_request(self) -> (Url, Vec<u8>) {
        (self.url, self.request)
    }

    /// Writes what it can, reads what there is, and says where the exchange stands. Reads
    /// until `WouldBlock`, as edge-triggered readiness needs.
    pub(crate) fn advance(&mut self) -> Step {
        match self.try_advance() {
            Ok(Some(done)) => done,
            Ok(None) => Step::Pending,
            Err(e) => Step::Failed {
                retry: self.reused && self.input.is_empty(),
                error: e,
            },
        }
    }

    fn try_advance(&mut self) -> Result<Option<Step>, String> {
        while self.written < self.request.len() {
            match self.stream.write(&self.request[self.written..]) {
                Ok(0) => return Err("http: connection closed while sending".into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("http send: {e}")),
            }
        }
        match self.stream.flush() {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(format!("http send: {e}")),
        }
        let mut chunk = [0u8; 8192];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return self.finish_at_close().map(Some),
                Ok(n) => {
                    self.input.extend_from_slice(&chunk[..n]);
                    if let Some(done) = self.parse()? {
                        return Ok(Some(done));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A TLS peer that closes without close_notify: the body may still be
                // complete when read until close.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return self.finish_at_close().map(Some);
                }
                Err(e) => return Err(format!("http: {e}")),
            }
        }
    }

    /// The connection closed: a body read until close ends here; anything else is cut.
    fn finish_at_close(&mut self) -> Result<Step, String> {
        match &self.head {
            Some(head) if matches!(head.framing, Framing::UntilClose) => {
                let body = Bytes::copy_from_slice(&self.input[head.body_start..]);
                Ok(Step::Done(self.response(body), false))
            }
            _ => Err("http: connection closed before the response ended".into()),
        }
    }

    fn response(&self, body: Bytes) -> HttpResponse {
        let head = self.head.as_ref().expect("parsed");
        HttpResponse {
            status: head.status,
            headers: head.headers.clone(),
            body,
        }
    }

    /// The response, once the input holds all of it.
    fn parse(&mut self) -> Result<Option<Step>, String> {
        if self.head.is_none() {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut headers);
            let body_start = match response.parse(&self.input) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) if self.input.len() > MAX_HEAD => {
                    return Err("http: response head too large".into());
                }
                Ok(httparse::Status::Partial) => return Ok(None),
                Err(e) => return Err(format!("http: malformed response: {e}")),
            };
            let mut framing = Framing::UntilClose;
            let mut keep_alive = response.version == Some(1);
            let mut kept = Vec::new();
            for h in response.headers.iter() {
                let value = String::from_utf8_lossy(h.value);
                let name = h.name.to_ascii_lowercase();
                match name.as_str() {
                    "content-length" => {
                        let len = value
                            .trim()
                            .parse::<usize>()
                            .map_err(|_| "http: bad content-length")?;
                        if len > MAX_RESPONSE_BODY {
                            return Err(format!(
                                "http body: larger than {MAX_RESPONSE_BODY} bytes"
                            ));
                        }
                        framing = Framing::Length(len);
                    }
                    "transfer-encoding" if value.to_ascii_lowercase().contains("chunked") => {
                        framing = Framing::Chunked;
                    }
                    "connection" => {
                        let value = value.to_ascii_lowercase();
                        if value.contains("close") {
                            keep_alive = false;
                        } else if value.contains("keep-alive") {
                            keep_alive = true;
                        }
                    }
                    // The engine reads only these two (cookies, and the server's clock).
                    "set-cookie" | "date" => kept.push((name, value.into_owned())),
                    _ => {}
                }
            }
            let status = response.code.unwrap_or(0);
            self.head = Some(Head {
                status,
                headers: kept,
                framing,
                keep_alive: keep_alive && !matches!(framing, Framing::UntilClose),
                body_start,
            });
        }
        let head = self.head.as_ref().expect("parsed above");
        let body = &self.input[head.body_start..];
        let keep_alive = head.keep_alive;
        match head.framing {
            Framing::Length(len) if body.len() >= len => {
                // Anything past the body would be a response nobody asked for: do not reuse.
                let clean = body.len() == len;
                let body = Bytes::copy_from_slice(&body[..len]);
                Ok(Some(Step::Done(self.response(body), keep_alive && clean)))
            }
            Framing::Length(_) => Ok(None),
            Framing::Chunked => match dechunk(body)? {
                Some((body, clean)) => Ok(Some(Step::Done(
                    self.response(Bytes::from(body)),
                    keep_alive && clean,
                ))),
                None => Ok(None),
            },
            Framing::UntilClose if body.len() > MAX_RESPONSE_BODY => {
                Err(format!("http body: larger than {MAX_RESPONSE_BODY} bytes"))
            }
            Framing::UntilClose => Ok(None),
        }
    }
}

/// A chunked body once complete (and whether nothing follows it), `None` while partial.
fn dechunk(mut input: &[u8]) -> Result<Option<(Vec<u8>, bool)>, String> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = input.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&input[..line_end]).map_err(|_| "http: bad chunk")?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| "http: bad chunk size")?;
        input = &input[line_end + 2..];
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            return match input.windows(2).position(|w| w == b"\r\n") {
                Some(end) => Ok(Some((body, input.len() == end + 2))),
                None => Ok(None),
            };
        }
        if body.len() + size > MAX_RESPONSE_BODY {
            return Err(format!("http body: larger than {MAX_RESPONSE_BODY} bytes"));
        }
        if input.len() < size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&input[..size]);
        input = &input[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies() {
        assert_eq!(dechunk(b"3\r\nabc\r\n"), Ok(None));
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"),
            Ok(Some((b"abcde".to_vec(), true)))
        );
        assert_eq!(dechunk(b"0\r\n\r\nX"), Ok(Some((Vec::new(), false))));
        assert!(dechunk(b"zz\r\n").is_err());
    }

    #[test]
    fn requests() {
        let url = Url::parse("http://h:3000/socket.io/?EIO=4&transport=polling").unwrap();
        let bytes = request_bytes(true, &url, &[("x-a".into(), "1".into())], b"4hi");
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            "POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: h:3000\r\nAccept: */*\r\n\
             x-a: 1\r\nContent-Length: 3\r\n\r\n4hi"
        );
    }
}
