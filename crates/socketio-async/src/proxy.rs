//! Going through an HTTP proxy (what Node's `agent` is most often used for): every connection,
//! long-polling and WebSocket, plain and TLS, is an HTTP `CONNECT` tunnel to the server's
//! host and port, opened by the runtime adapter.
//!
//! This module is runtime-agnostic and sans-IO: [`ProxyOptions`] says which proxy and for which
//! hosts, and [`ConnectHandshake`] builds the `CONNECT` request and parses the proxy's answer as
//! the adapter feeds it the bytes it reads.
//!
//! ```
//! use socketio_async::proxy::ProxyOptions;
//!
//! let proxy = ProxyOptions::new("http://proxy.corp.example:3128")?
//!     .credentials("alice", "s3cret")
//!     .no_proxy(["localhost", "127.0.0.1", ".internal.example"]);
//! let server = url::Url::parse("https://chat.example.com/socket.io/").unwrap();
//! let handshake = proxy.tunnel(&server).expect("not bypassed");
//! assert!(handshake.request().starts_with(b"CONNECT chat.example.com:443 HTTP/1.1\r\n"));
//! # Ok::<(), socketio_async::proxy::ProxyError>(())
//! ```

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use url::Url;

/// The largest `CONNECT` response head (status line and headers) accepted from a proxy.
pub const MAX_RESPONSE_HEAD: usize = 8 * 1024;

/// An HTTP proxy to tunnel every connection through (`CONNECT host:port`).
///
/// Only `http://` proxy URLs are supported: the client talks plain HTTP to the proxy, and TLS
/// (for `https`/`wss` servers) runs end to end inside the tunnel. The credentials are sent as
/// `Proxy-Authorization: Basic ...`; they never appear in `Debug` output, errors or logs.
#[derive(Clone)]
pub struct ProxyOptions {
    /// The proxy's host, without IPv6 brackets.
    host: String,
    port: u16,
    credentials: Option<Credentials>,
    no_proxy: Vec<String>,
}

#[derive(Clone)]
struct Credentials {
    user: String,
    password: String,
}

impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("proxy", &format_args!("http://{}", self.address()))
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<redacted>"),
            )
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl ProxyOptions {
    /// A proxy from its URL: `http://[user:password@]host[:port]` (port 80 when absent; a URL
    /// without a scheme is taken as `http://`). Percent-encoded credentials are decoded.
    /// `https://` (TLS to the proxy) and other schemes are refused.
    pub fn new(proxy_url: &str) -> Result<Self, ProxyError> {
        let text = proxy_url.trim();
        let url = if text.contains("://") {
            Url::parse(text)
        } else {
            Url::parse(&format!("http://{text}"))
        }
        // The URL may hold credentials: only the parser's reason goes into the error.
        .map_err(ProxyError::InvalidUrl)?;
        match url.scheme() {
            "http" => {}
            "https" => {
                return Err(ProxyError::UnsupportedScheme("https".into()));
            }
            other => return Err(ProxyError::UnsupportedScheme(other.to_owned())),
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(ProxyError::NoHost)?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(80);
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, password) => Some(Credentials {
                user: percent_decode(user),
                password: percent_decode(password.unwrap_or("")),
            }),
        };
        Ok(Self {
            host,
            port,
            credentials,
            no_proxy: Vec::new(),
        })
    }

    /// The proxy for connections to `server_url`, from the environment: `https_proxy` /
    /// `HTTPS_PROXY` for `https`/`wss` servers, `http_proxy` / `HTTP_PROXY` for `http`/`ws`
    /// (lower case first; empty means unset), and `no_proxy` / `NO_PROXY` (comma-separated).
    ///
    /// `None` when no proxy variable is set. The environment is only read when this is called:
    /// a runtime without [`ProxyOptions`] never uses a proxy.
    pub fn from_env(server_url: &str) -> Result<Option<Self>, ProxyError> {
        Self::from_lookup(server_url, |name| std::env::var(name).ok())
    }

    /// [`ProxyOptions::from_env`] over any variable lookup (for tests, or a configuration file
    /// using the same names).
    pub fn from_lookup(
        server_url: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ProxyError> {
        let server = engineio_proto::parse_server_url(server_url).map_err(ProxyError::ServerUrl)?;
        let get = |names: [&str; 2]| {
            names
                .into_iter()
                .filter_map(&lookup)
                .find(|v| !v.trim().is_empty())
        };
        let proxy = match server.scheme() {
            "https" | "wss" => get(["https_proxy", "HTTPS_PROXY"]),
            _ => get(["http_proxy", "HTTP_PROXY"]),
        };
        let Some(proxy) = proxy else {
            return Ok(None);
        };
        let no_proxy = get(["no_proxy", "NO_PROXY"]).unwrap_or_default();
        let entries = no_proxy
            .split([',', ' ', '\t'])
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>();
        Ok(Some(Self::new(&proxy)?.no_proxy(entries)))
    }

    /// Sets the credentials for `Proxy-Authorization: Basic` (replacing any from the URL).
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(Credentials {
            user: user.into(),
            password: password.into(),
        });
        self
    }

    /// Sets the hosts reached directly, not through the proxy: `*` for all; a host name
    /// matches itself and its subdomains (`example.com` and `.example.com` both match
    /// `example.com` and `a.example.com`); an IP address matches itself; `host:port` only
    /// that port. Case-insensitive. CIDR ranges are not supported.
    pub fn no_proxy<S: Into<String>>(mut self, hosts: impl IntoIterator<Item = S>) -> Self {
        self.no_proxy = hosts
            .into_iter()
            .map(|h| h.into().trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        self
    }

    /// The proxy's host (IPv6 without brackets), to open the TCP connection to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` of the proxy (IPv6 bracketed), for messages.
    pub fn address(&self) -> String {
        authority(&self.host, self.port)
    }

    /// Whether credentials are set.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The `no_proxy` entries, normalised to lower case.
    pub fn no_proxy_hosts(&self) -> &[String] {
        &self.no_proxy
    }

    /// Whether connections to `url` skip the proxy (its host matches a `no_proxy` entry).
    pub fn bypasses(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return true;
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let host = host.trim_end_matches('.');
        let port = url.port_or_known_default();
        self.no_proxy
            .iter()
            .any(|entry| no_proxy_matches(entry, host, port))
    }

    /// The `CONNECT` handshake for a connection to `url`'s host and port, or `None` when
    /// `no_proxy` says to connect directly.
    pub fn tunnel(&self, url: &Url) -> Option<ConnectHandshake> {
        if self.bypasses(url) {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        Some(ConnectHandshake::new(self, host, port))
    }

    fn authorization(&self) -> Option<String> {
        self.credentials.as_ref().map(|c| {
            let pair = format!("{}:{}", c.user, c.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        })
    }
}

/// `host:port`, IPv6 hosts bracketed.
fn authority(host: &str, port: u16) -> String {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.contains(':') {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    }
}

/// Whether a (lower-case) `no_proxy` entry covers `host` (lower case, no brackets).
fn no_proxy_matches(entry: &str, host: &str, port: Option<u16>) -> bool {
    if entry == "*" {
        return true;
    }
    let (name, entry_port) = split_entry(entry);
    if let Some(wanted) = entry_port
        && port != Some(wanted)
    {
        return false;
    }
    if let (Ok(a), Ok(b)) = (name.parse::<IpAddr>(), host.parse::<IpAddr>()) {
        return a == b;
    }
    let name = name
        .trim_start_matches("*.")
        .trim_start_matches('.')
        .trim_end_matches('.');
    if name.is_empty() {
        return false;
    }
    host == name
        || host
            .strip_suffix(name)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// An entry's host and optional port: `host`, `host:port`, `[v6]`, `[v6]:port` or a bare
/// IPv6 address.
fn split_entry(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (rest, None),
        };
    }
    match entry.split_once(':') {
        // One colon: `host:port`. More: a bare IPv6 address.
        Some((host, port)) if !port.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

/// How far a [`ConnectHandshake`] has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The response head is not complete yet: read more and feed it.
    NeedMore,
    /// The proxy answered 2xx: the connection is now a tunnel to the target.
    Established,
}

/// One `CONNECT` exchange, sans-IO: write [`request`](Self::request) to the proxy, then
/// [`feed`](Self::feed) what it answers until [`Progress::Established`] or an error; at end of
/// stream before that, the error is [`closed`](Self::closed).
pub struct ConnectHandshake {
    target: String,
    request: Vec<u8>,
    head: Vec<u8>,
    established: bool,
}

impl fmt::Debug for ConnectHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The request holds the credentials.
        f.debug_struct("ConnectHandshake")
            .field("target", &self.target)
            .field("received", &self.head.len())
            .field("established", &self.established)
            .finish_non_exhaustive()
    }
}

impl ConnectHandshake {
    /// The handshake through `proxy` to `host:port` (an IPv6 host bracketed or not).
    pub fn new(proxy: &ProxyOptions, host: &str, port: u16) -> Self {
        let target = authority(host, port);
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(auth) = proxy.authorization() {
            request.push_str("Proxy-Authorization: ");
            request.push_str(&auth);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        Self {
            target,
            request: request.into_bytes(),
            head: Vec::new(),
            established: false,
        }
    }

    /// The target, `host:port`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The request to write to the proxy (it holds the credentials: do not log it).
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// Takes bytes read from the proxy. Nothing may follow the response head: the client
    /// speaks first in the tunnel (TLS, HTTP, WebSocket), so extra bytes are an error.
    pub fn feed(&mut self, data: &[u8]) -> Result<Progress, ProxyError> {
        if self.established {
            return if data.is_empty() {
                Ok(Progress::Established)
            } else {
                Err(ProxyError::UnexpectedData)
            };
        }
        self.head.extend_from_slice(data);
        // Only the first MAX_RESPONSE_HEAD bytes may hold the head: a head that does not end
        // within them is too large, however much more arrives.
        let window = &self.head[..self.head.len().min(MAX_RESPONSE_HEAD)];
        let Some(head) = parse_head(window)? else {
            return if self.head.len() > MAX_RESPONSE_HEAD {
                Err(ProxyError::ResponseTooLarge)
            } else {
                Ok(Progress::NeedMore)
            };
        };
        if !(200..300).contains(&head.status) {
            return Err(ProxyError::Refused {
                status: head.status,
                reason: head.reason,
            });
        }
        if self.head.len() > head.len {
            return Err(ProxyError::UnexpectedData);
        }
        self.established = true;
        Ok(Progress::Established)
    }

    /// The error for the proxy closing the connection now.
    pub fn closed(&self) -> ProxyError {
        if self.established {
            ProxyError::UnexpectedData
        } else {
            ProxyError::Closed
        }
    }
}

/// A complete response head: its length (up to and including the blank line), status and
/// printable reason.
struct Head {
    len: usize,
    status: u16,
    reason: String,
}

/// Parses the response head in `data` with httparse; `None` while it is incomplete.
fn parse_head(data: &[u8]) -> Result<Option<Head>, ProxyError> {
    // A proxy's answer to CONNECT has a few headers; the rare long one is parsed again with
    // room for as many header lines as MAX_RESPONSE_HEAD can hold (each takes 3 bytes or more).
    let mut headers = [httparse::EMPTY_HEADER; 32];
    match parse_head_with(data, &mut headers) {
        Err(httparse::Error::TooManyHeaders) => {
            let mut headers = vec![httparse::EMPTY_HEADER; MAX_RESPONSE_HEAD / 3 + 1];
            parse_head_with(data, &mut headers)
        }
        other => other,
    }
    .map_err(ProxyError::MalformedResponse)
}

fn parse_head_with<'a>(
    data: &'a [u8],
    headers: &mut [httparse::Header<'a>],
) -> Result<Option<Head>, httparse::Error> {
    let mut response = httparse::Response::new(headers);
    let httparse::Status::Complete(len) = response.parse(data)? else {
        return Ok(None);
    };
    // Complete implies both; a missing one would be a parser bug, reported as malformed.
    let (Some(status), Some(1 | 0)) = (response.code, response.version) else {
        return Err(httparse::Error::Version);
    };
    let reason = response
        .reason
        .unwrap_or("")
        .trim()
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(128)
        .collect();
    Ok(Some(Head {
        len,
        status,
        reason,
    }))
}

/// Why a proxy could not be configured or would not open a tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL does not parse; the URL parser's reason (not the URL, which may hold
    /// credentials).
    InvalidUrl(url::ParseError),
    /// The proxy URL names no host.
    NoHost,
    /// The server URL given to [`ProxyOptions::from_env`] is not a valid server URL.
    ServerUrl(engineio_proto::ConfigError),
    /// Not an `http://` proxy: the scheme given (`https` is refused too: TLS to the proxy is
    /// not supported).
    UnsupportedScheme(String),
    /// The proxy answered `CONNECT` with a status other than 2xx.
    Refused {
        /// The HTTP status, e.g. 407.
        status: u16,
        /// The reason phrase, e.g. "Proxy Authentication Required".
        reason: String,
    },
    /// The answer is not an HTTP/1 response; what the response parser (httparse) said.
    MalformedResponse(httparse::Error),
    /// The response head exceeds [`MAX_RESPONSE_HEAD`].
    ResponseTooLarge,
    /// The proxy closed the connection before answering.
    Closed,
    /// The proxy sent bytes after its 2xx answer, before the client spoke.
    UnexpectedData,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(source) => write!(f, "invalid proxy URL: {source}"),
            Self::NoHost => f.write_str("invalid proxy URL: no host"),
            Self::ServerUrl(source) => write!(f, "proxy for an invalid server URL: {source}"),
            Self::UnsupportedScheme(scheme) if scheme == "https" => f.write_str(
                "unsupported proxy scheme https (TLS to the proxy is not supported: use the \
                 proxy's http:// address; TLS to the server still runs end to end inside the \
                 tunnel)",
            ),
            Self::UnsupportedScheme(scheme) => {
                write!(f, "unsupported proxy scheme {scheme}: only http:// proxies")
            }
            Self::Refused { status, reason } if reason.is_empty() => {
                write!(f, "proxy refused CONNECT: {status}")
            }
            Self::Refused { status, reason } => {
                write!(f, "proxy refused CONNECT: {status} {reason}")
            }
            Self::MalformedResponse(why) => {
                write!(f, "malformed proxy response to CONNECT: {why}")
            }
            Self::ResponseTooLarge => write!(
                f,
                "the proxy's response to CONNECT exceeds {MAX_RESPONSE_HEAD} bytes"
            ),
            Self::Closed => f.write_str("the proxy closed the connection before answering CONNECT"),
            Self::UnexpectedData => {
                f.write_str("the proxy sent data in the tunnel before the client spoke")
            }
        }
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidUrl(source) => Some(source),
            Self::ServerUrl(source) => Some(source),
            Self::MalformedResponse(source) => Some(source),
            _ => None,
        }
    }
}

/// `%XX` decoding of URL userinfo (invalid escapes stay as they are), lossy UTF-8.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn base64(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    #[test]
    fn percent_decoding_of_credentials() {
        assert_eq!(percent_decode("us%40er"), "us@er");
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        // Invalid escapes stay as they are; invalid UTF-8 is replaced, not an error.
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn parses_proxy_urls() {
        let p = ProxyOptions::new("http://proxy.example:3128").unwrap();
        assert_eq!(
            (p.host(), p.port(), p.has_credentials()),
            ("proxy.example", 3128, false)
        );
        let p = ProxyOptions::new("proxy.example:8080").unwrap();
        assert_eq!((p.host(), p.port()), ("proxy.example", 8080));
        let p = ProxyOptions::new("http://proxy.example").unwrap();
        assert_eq!(p.port(), 80);
        let p = ProxyOptions::new("http://[::1]:9000").unwrap();
        assert_eq!((p.host(), p.address()), ("::1", "[::1]:9000".to_owned()));
        let p = ProxyOptions::new("http://us%40er:p%3Ass@proxy:1").unwrap();
        assert_eq!(
            p.authorization().unwrap(),
            format!("Basic {}", base64(b"us@er:p:ss"))
        );
        assert!(matches!(
            ProxyOptions::new("https://proxy:443"),
            Err(ProxyError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            ProxyOptions::new("socks5://proxy:1080"),
            Err(ProxyError::UnsupportedScheme(s)) if s == "socks5"
        ));
        assert!(matches!(
            ProxyOptions::new("http://"),
            Err(ProxyError::InvalidUrl(_) | ProxyError::NoHost)
        ));
    }

    #[test]
    fn debug_and_errors_hide_credentials() {
        let p = ProxyOptions::new("http://alice:hunter2@proxy:3128").unwrap();
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("alice"),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"));
        let h = p.tunnel(&url("http://server:80/")).unwrap();
        let shown = format!("{h:?}");
        assert!(!shown.contains(&base64(b"alice:hunter2")), "{shown}");
        let e = ProxyOptions::new("http://alice:hunter2@proxy:99999").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn connect_request() {
        let p = ProxyOptions::new("http://proxy:3128")
            .unwrap()
            .credentials("user", "pass");
        let h = p.tunnel(&url("wss://chat.example.com/socket.io/")).unwrap();
        assert_eq!(h.target(), "chat.example.com:443");
        assert_eq!(
            std::str::from_utf8(h.request()).unwrap(),
            "CONNECT chat.example.com:443 HTTP/1.1\r\nHost: chat.example.com:443\r\n\
             Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n"
        );
        let h = p.tunnel(&url("http://[::1]:3000/")).unwrap();
        assert_eq!(h.target(), "[::1]:3000");
        let p = ProxyOptions::new("http://proxy:3128").unwrap();
        let h = p.tunnel(&url("ws://127.0.0.1:8080/")).unwrap();
        assert_eq!(
            h.request(),
            b"CONNECT 127.0.0.1:8080 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
        );
    }

    fn handshake() -> ConnectHandshake {
        let p = ProxyOptions::new("http://proxy:3128").unwrap();
        p.tunnel(&url("http://server:1/")).unwrap()
    }

    #[test]
    fn response_in_pieces() {
        let mut h = handshake();
        let response = b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n";
        for (i, byte) in response.iter().enumerate() {
            let progress = h.feed(&[*byte]).unwrap();
            if i + 1 < response.len() {
                assert_eq!(progress, Progress::NeedMore);
            } else {
                assert_eq!(progress, Progress::Established);
            }
        }
        assert_eq!(h.feed(b"x"), Err(ProxyError::UnexpectedData));
        let mut h = handshake();
        assert_eq!(h.feed(b"HTTP/1.0 200\n\n"), Ok(Progress::Established));
        // Many short headers (more than the first parse has room for) are fine.
        let mut h = handshake();
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..200 {
            head.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        assert_eq!(h.feed(&head), Ok(Progress::Established));
    }

    #[test]
    fn refusals_and_malformed_answers() {
        let mut h = handshake();
        let e = h
            .feed(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 5\r\n\r\nnope!")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "proxy refused CONNECT: 407 Proxy Authentication Required"
        );
        let mut h = handshake();
        assert_eq!(
            h.feed(b"HTTP/1.1 502\r\n\r\n"),
            Err(ProxyError::Refused {
                status: 502,
                reason: String::new()
            })
        );
        let mut h = handshake();
        assert!(matches!(
            h.feed(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(ProxyError::MalformedResponse(_))
        ));
        let mut h = handshake();
        assert!(matches!(
            h.feed(b"HTTP/1.1 2000 OK\r\n\r\n"),
            Err(ProxyError::MalformedResponse(_))
        ));
        let mut h = handshake();
        assert!(matches!(
            h.feed(b"HTTP/2 200\r\n\r\n"),
            Err(ProxyError::MalformedResponse(_))
        ));
        // A control character in the reason is not echoed into messages.
        let mut h = handshake();
        assert!(matches!(
            h.feed(b"HTTP/1.1 403 No\x1b[31m\r\n\r\n"),
            Err(ProxyError::Refused { status: 403, .. }) | Err(ProxyError::MalformedResponse(_))
        ));
        let mut h = handshake();
        assert_eq!(
            h.feed(b"HTTP/1.1 200 OK\r\n\r\nearly"),
            Err(ProxyError::UnexpectedData)
        );
        let mut h = handshake();
        assert_eq!(h.feed(b"HTTP/1.1 200 OK\r\n"), Ok(Progress::NeedMore));
        assert_eq!(h.closed(), ProxyError::Closed);
    }

    #[test]
    fn response_head_is_bounded() {
        let mut h = handshake();
        assert_eq!(h.feed(b"HTTP/1.1 200 OK\r\n"), Ok(Progress::NeedMore));
        let header = b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut result = Ok(Progress::NeedMore);
        for _ in 0..(MAX_RESPONSE_HEAD / header.len() + 1) {
            result = h.feed(header);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ProxyError::ResponseTooLarge));
        // Just under the limit is fine.
        let mut h = handshake();
        let mut head = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        head.resize(MAX_RESPONSE_HEAD - 4, b'a');
        head.extend_from_slice(b"\r\n\r\n");
        assert_eq!(h.feed(&head), Ok(Progress::Established));
    }

    #[test]
    fn no_proxy_matching() {
        let p = ProxyOptions::new("http://proxy:3128").unwrap().no_proxy([
            "Example.COM",
            ".corp.test",
            "127.0.0.1",
            "::1",
            "svc.local:8080",
            "[fe80::1]:9000",
        ]);
        for (target, bypass) in [
            ("http://example.com/", true),
            ("http://a.b.example.com/", true),
            ("http://notexample.com/", false),
            ("http://corp.test/", true),
            ("https://x.corp.test/", true),
            ("http://127.0.0.1:3000/", true),
            ("http://127.0.0.2:3000/", false),
            ("http://[::1]:3000/", true),
            ("http://svc.local:8080/", true),
            ("http://svc.local:8081/", false),
            ("http://[fe80::1]:9000/", true),
            ("http://[fe80::1]:9001/", false),
            ("http://other.test/", false),
        ] {
            assert_eq!(p.bypasses(&url(target)), bypass, "{target}");
            assert_eq!(p.tunnel(&url(target)).is_none(), bypass, "{target}");
        }
        let all = ProxyOptions::new("http://proxy:3128")
            .unwrap()
            .no_proxy(["*"]);
        assert!(all.bypasses(&url("https://anything.example/")));
    }

    #[test]
    fn from_environment_variables() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let env = vars(&[
            ("HTTP_PROXY", "http://plain:3128"),
            ("https_proxy", "secure:3129"),
            ("HTTPS_PROXY", "http://ignored:1"),
            ("NO_PROXY", "localhost, .internal"),
        ]);
        let p = ProxyOptions::from_lookup("http://server/", env)
            .unwrap()
            .unwrap();
        assert_eq!((p.host(), p.port()), ("plain", 3128));
        assert_eq!(p.no_proxy_hosts(), ["localhost", ".internal"]);
        let p = ProxyOptions::from_lookup("wss://server/", env)
            .unwrap()
            .unwrap();
        assert_eq!((p.host(), p.port()), ("secure", 3129));
        assert!(p.bypasses(&url("wss://db.internal/")));
        let none = ProxyOptions::from_lookup("http://server/", vars(&[("http_proxy", " ")]));
        assert!(none.unwrap().is_none());
        assert!(
            ProxyOptions::from_lookup("ws://server/", vars(&[]))
                .unwrap()
                .is_none()
        );
    }
}
