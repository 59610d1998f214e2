//! Everything on the wire, in order, for whole-exchange assertions.
//!
//! The fake server records what it receives when it receives it and what it sends when it
//! sends it; the simulation adds notes about the link (resets, vanished transmissions). A
//! transcript renders as lines such as
//!
//! ```text
//! C→S #1 GET /engine.io/?EIO=4&transport=polling&t=*
//! S→C #1 200 0{"sid":"F-u0OIq_O9rLDLoFAAAA","upgrades":["websocket"],...}
//! C→S ws2 GET /engine.io/?EIO=4&transport=websocket&sid=F-u0OIq_O9rLDLoFAAAA
//! S→C ws2 101
//! C→S ws2 2probe
//! ```
//!
//! `#n` names an HTTP exchange and `wsn` a WebSocket; the cache-buster's value is masked
//! (`t=*`) because it is random; binary frames show as `<01 02>`; bodies are shown verbatim
//! (so `\x1e` separators are the real byte).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use engineio_proto::{Header, WsFrame};
use url::Url;

use crate::wire::{ConnId, Method, RequestId};

/// Which end sent something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The client under test.
    Client,
    /// The fake server.
    Server,
}

impl Side {
    fn arrow(self) -> &'static str {
        match self {
            Self::Client => "C→S",
            Self::Server => "S→C",
        }
    }
}

/// One thing on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Record {
    /// An HTTP request, as received.
    HttpRequest {
        /// The exchange.
        id: RequestId,
        /// GET or POST.
        method: Method,
        /// The URL.
        url: Url,
        /// The headers.
        headers: Vec<Header>,
        /// The body.
        body: Bytes,
    },
    /// An HTTP response, as sent.
    HttpResponse {
        /// The exchange.
        id: RequestId,
        /// The request's method.
        method: Method,
        /// The status.
        status: u16,
        /// The headers.
        headers: Vec<Header>,
        /// The body.
        body: Bytes,
    },
    /// The server dropped a request's connection.
    HttpAbort {
        /// The exchange.
        id: RequestId,
    },
    /// A WebSocket handshake request, as received.
    WsConnect {
        /// The connection.
        conn: ConnId,
        /// The URL.
        url: Url,
        /// The headers.
        headers: Vec<Header>,
    },
    /// The handshake was accepted.
    WsAccept {
        /// The connection.
        conn: ConnId,
    },
    /// The handshake was refused.
    WsReject {
        /// The connection.
        conn: ConnId,
        /// The HTTP status.
        status: u16,
        /// The body.
        body: Bytes,
    },
    /// A frame.
    WsFrame {
        /// The connection.
        conn: ConnId,
        /// Who sent it.
        from: Side,
        /// The frame.
        frame: WsFrame,
    },
    /// A clean close.
    WsClose {
        /// The connection.
        conn: ConnId,
        /// Who closed it.
        from: Side,
    },
    /// The server dropped the connection without a close frame.
    WsAbort {
        /// The connection.
        conn: ConnId,
    },
    /// A remark from the simulation (link resets, vanished transmissions).
    Note(String),
}

/// A record and when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Simulated time since the start.
    pub at: Duration,
    /// What happened.
    pub record: Record,
}

/// How to render lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Query parameters whose values are shown as `*` (default: `t`, the cache-buster).
    pub masked_params: Vec<String>,
    /// Whether to prefix each line with its time.
    pub times: bool,
    /// Whether to include request headers.
    pub headers: bool,
    /// Whether to include notes.
    pub notes: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            masked_params: vec!["t".into()],
            times: false,
            headers: false,
            notes: false,
        }
    }
}

/// The ordered record of a simulation.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    entries: Vec<Entry>,
}

impl Transcript {
    /// Appends a record.
    pub fn push(&mut self, at: Duration, record: Record) {
        self.entries.push(Entry { at, record });
    }

    /// Appends a note.
    pub fn note(&mut self, at: Duration, note: impl Into<String>) {
        self.push(at, Record::Note(note.into()));
    }

    /// Every entry, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The lines with the default options (no times, no headers, no notes, `t` masked).
    pub fn lines(&self) -> Vec<String> {
        self.render(&RenderOptions::default())
    }

    /// The lines with `options`.
    pub fn render(&self, options: &RenderOptions) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| {
                let line = render_record(&e.record, options)?;
                Some(if options.times {
                    format!("[{:>10.3}ms] {line}", e.at.as_secs_f64() * 1000.0)
                } else {
                    line
                })
            })
            .collect()
    }

    /// The HTTP requests received, in order.
    pub fn requests(&self) -> impl Iterator<Item = (&Entry, Method, &Url, &[Header], &Bytes)> {
        self.entries.iter().filter_map(|e| match &e.record {
            Record::HttpRequest {
                method,
                url,
                headers,
                body,
                ..
            } => Some((e, *method, url, headers.as_slice(), body)),
            _ => None,
        })
    }

    /// The bodies of the POSTs received, in order, as text.
    pub fn post_bodies(&self) -> Vec<String> {
        self.requests()
            .filter(|(_, m, ..)| *m == Method::Post)
            .map(|(.., body)| String::from_utf8_lossy(body).into_owned())
            .collect()
    }

    /// The frames `from` sent, in order, rendered like the lines (text verbatim, binary as
    /// `<hex>`).
    pub fn frames(&self, from: Side) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| match &e.record {
                Record::WsFrame { from: f, frame, .. } if *f == from => Some(render_frame(frame)),
                _ => None,
            })
            .collect()
    }

    /// How many entries match `predicate`.
    pub fn count(&self, predicate: impl Fn(&Record) -> bool) -> usize {
        self.entries.iter().filter(|e| predicate(&e.record)).count()
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = RenderOptions {
            times: true,
            notes: true,
            ..RenderOptions::default()
        };
        for line in self.render(&options) {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

fn render_record(record: &Record, options: &RenderOptions) -> Option<String> {
    let c = Side::Client.arrow();
    let s = Side::Server.arrow();
    Some(match record {
        Record::HttpRequest {
            id,
            method,
            url,
            headers,
            body,
        } => {
            let mut line = format!("{c} {id} {} {}", method.as_str(), render_url(url, options));
            if !body.is_empty() {
                line.push(' ');
                line.push_str(&String::from_utf8_lossy(body));
            }
            if options.headers {
                line.push_str(&render_headers(headers));
            }
            line
        }
        Record::HttpResponse {
            id, status, body, ..
        } => {
            if body.is_empty() {
                format!("{s} {id} {status}")
            } else {
                format!("{s} {id} {status} {}", String::from_utf8_lossy(body))
            }
        }
        Record::HttpAbort { id } => format!("{s} {id} abort"),
        Record::WsConnect { conn, url, headers } => {
            let mut line = format!("{c} {conn} GET {}", render_url(url, options));
            if options.headers {
                line.push_str(&render_headers(headers));
            }
            line
        }
        Record::WsAccept { conn } => format!("{s} {conn} 101"),
        Record::WsReject { conn, status, body } => {
            format!("{s} {conn} {status} {}", String::from_utf8_lossy(body))
        }
        Record::WsFrame { conn, from, frame } => {
            format!("{} {conn} {}", from.arrow(), render_frame(frame))
        }
        Record::WsClose { conn, from } => format!("{} {conn} close", from.arrow()),
        Record::WsAbort { conn } => format!("{s} {conn} abort"),
        Record::Note(note) => {
            if !options.notes {
                return None;
            }
            format!("-- {note}")
        }
    })
}

/// The path and query of `url`, masked.
fn render_url(url: &Url, options: &RenderOptions) -> String {
    let mut out = url.path().to_owned();
    if let Some(query) = url.query() {
        out.push('?');
        let parts: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if options.masked_params.iter().any(|m| m == k) => format!("{k}=*"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

fn render_headers(headers: &[Header]) -> String {
    let mut out = String::new();
    for (k, v) in headers {
        out.push_str(&format!(" [{k}: {v}]"));
    }
    out
}

/// A frame as text: text verbatim, binary as `<hex bytes>`.
pub fn render_frame(frame: &WsFrame) -> String {
    match frame {
        WsFrame::Text(t) => String::from_utf8_lossy(t).into_owned(),
        WsFrame::Binary(b) => {
            let hex: Vec<String> = b.iter().map(|b| format!("{b:02x}")).collect();
            format!("<{}>", hex.join(" "))
        }
    }
}
