//! Request building: the URL of every polling request and WebSocket handshake, and its headers.

use url::Url;

use crate::config::{Config, TransportKind};

/// A header to send, name and value.
pub type Header = (String, String);

/// Builds the URL for a request on `kind`, with the session id once there is one.
///
/// Query order follows the reference: the user's `query`, then `EIO`, `transport`, the
/// cache-buster, `b64`, `sid`. Servers ignore the order.
pub(crate) fn build_url(
    config: &Config,
    kind: TransportKind,
    sid: Option<&str>,
    eio: &str,
    cache_buster: impl FnOnce() -> String,
) -> Url {
    let mut url = config.url.clone();
    let scheme = match (kind, config.secure()) {
        (TransportKind::Polling, false) => "http",
        (TransportKind::Polling, true) => "https",
        (TransportKind::WebSocket, false) => "ws",
        (TransportKind::WebSocket, true) => "wss",
    };
    // http<->ws swaps are always allowed for special schemes; the url was validated.
    let _ = url.set_scheme(scheme);
    url.set_fragment(None);
    url.set_path(&normalize_path(&config.path, config.add_trailing_slash));
    url.set_query(None);
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in &config.query {
            q.append_pair(k, v);
        }
        q.append_pair("EIO", eio);
        q.append_pair("transport", kind.as_str());
        let stamp = match kind {
            TransportKind::Polling => config.timestamp_requests != Some(false),
            TransportKind::WebSocket => config.timestamp_requests == Some(true),
        };
        if stamp {
            q.append_pair(&config.timestamp_param, &cache_buster());
        }
        // Polling carries binary as base64 anyway; the flag matters for the handshake only.
        let b64 = config.force_base64 && (kind == TransportKind::WebSocket || sid.is_none());
        if b64 {
            q.append_pair("b64", "1");
        }
        if let Some(sid) = sid {
            q.append_pair("sid", sid);
        }
    }
    url
}

/// The path every request goes to, as [`build_url`] writes it (percent-encoded), without
/// building the rest of a request's URL.
pub(crate) fn request_path(config: &Config) -> String {
    let mut url = config.url.clone();
    url.set_path(&normalize_path(&config.path, config.add_trailing_slash));
    url.path().to_owned()
}

/// The reference's path rule, `path.replace(/\/$/, "") + (addTrailingSlash ? "/" : "")`, plus a
/// leading `/` when the option lacks one. `/` (or an empty path) stays `/` either way.
fn normalize_path(path: &str, add_trailing_slash: bool) -> String {
    let base = path.strip_suffix('/').unwrap_or(path);
    let mut out = String::with_capacity(base.len() + 2);
    if !base.starts_with('/') {
        out.push('/');
    }
    out.push_str(base);
    if add_trailing_slash && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The headers for a request: the user's extra headers, then the content type of a POST, then
/// the cookies.
pub(crate) fn build_headers(config: &Config, post: bool, cookie: Option<String>) -> Vec<Header> {
    let mut headers = Vec::with_capacity(config.extra_headers.len() + 2);
    headers.extend(config.extra_headers.iter().cloned());
    if post {
        headers.push((
            "content-type".to_owned(),
            "text/plain;charset=UTF-8".to_owned(),
        ));
    }
    if let Some(cookie) = cookie {
        headers.push(("cookie".to_owned(), cookie));
    }
    headers
}

/// A cache-busting value shaped like the reference's: 8 characters of base 36.
pub(crate) fn cache_buster(mut random: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(8);
    for _ in 0..8 {
        out.push(char::from(DIGITS[(random % 36) as usize]));
        random /= 36;
    }
    out
}

#[cfg(test)]
mod path_tests {
    use super::*;

    #[test]
    fn the_request_path_is_the_path_of_every_request_url() {
        for (path, slash) in [
            ("/socket.io", true),
            ("socket.io/", false),
            ("/", true),
            ("", false),
            ("/a b/ü/", true),
        ] {
            let mut config = Config::new("https://example.com:8443/ignored?a=1").unwrap();
            config.path = path.into();
            config.add_trailing_slash = slash;
            for kind in [TransportKind::Polling, TransportKind::WebSocket] {
                let url = build_url(&config, kind, Some("sid"), "4", || "stamp".into());
                assert_eq!(
                    request_path(&config),
                    url.path(),
                    "{path:?} {slash} {kind:?}"
                );
            }
        }
    }
}
