//! The cookie jar behind `with_credentials`: what makes cookie-based sticky sessions (AWS ALB,
//! HAProxy) work for a client that is not a browser.
//!
//! One jar belongs to one client, which talks to one host, so cookies are scoped to the host
//! that set them by construction. Like the reference's Node jar it honours `Max-Age` and
//! `Expires`. Unlike it, a jar made with [`CookieJar::for_server`] also applies the attributes
//! that can concern one host and one path (RFC 6265): a cookie whose `Domain` does not cover the
//! host, whose `Path` does not cover the Engine.IO path, or that is `Secure` but came over plain
//! `http`/`ws` from a host other than a loopback one is refused, as a browser would refuse it.
//! `Debug` shows cookie names, never values.
//!
//! `Expires` is a wall-clock date and this crate reads no clock: it is measured against the
//! response's own `Date` header (which Node servers send), so `Expires=<Date>` means "already
//! expired". Without a `Date` header an `Expires` cookie lives for the session.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use web_time::Instant;

/// Cookies kept for one server.
#[derive(Default, Clone)]
pub struct CookieJar {
    cookies: BTreeMap<String, Cookie>,
    /// Where every request of this jar goes; `None` applies no attribute but the expiry.
    scope: Option<Scope>,
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cookie values are session credentials (sticky-session and auth cookies).
        f.debug_struct("CookieJar")
            .field("cookies", &self.cookies.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Cookie {
    value: String,
    expires: Option<Instant>,
}

/// The one host and path a jar's requests go to, and whether over TLS.
#[derive(Debug, Clone)]
struct Scope {
    /// Lowercase host name or IP address (IPv6 with its brackets, as the URL writes it).
    host: String,
    /// The request path, e.g. `/socket.io/`.
    path: String,
    secure: bool,
}

/// The attributes of a `Set-Cookie` that decide where it may be sent.
struct Placement<'a> {
    domain: Option<&'a str>,
    path: Option<&'a str>,
    secure: bool,
}

impl Scope {
    /// Whether a cookie with these attributes, set by a response of this scope, may be kept
    /// and sent back (RFC 6265 5.3 steps 6 and 7, 5.1.3 and 5.1.4; RFC 6265bis for `Secure`
    /// from an insecure origin).
    fn admits(&self, placement: &Placement<'_>) -> bool {
        if placement.secure && !self.secure {
            return false;
        }
        if let Some(domain) = placement.domain {
            let domain = domain.trim_start_matches('.').to_ascii_lowercase();
            if !domain.is_empty() && !domain_match(&self.host, &domain) {
                return false;
            }
        }
        match placement.path {
            Some(path) if path.starts_with('/') => path_match(&self.path, path),
            // No or an invalid `Path`: the default path, the directory of the request path,
            // which always covers the request path itself.
            _ => true,
        }
    }
}

/// Loopback hosts count as secure, as browsers treat `http://localhost` as a trustworthy
/// origin (and the reference's own test sets a `Secure` cookie over `http://localhost`).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// RFC 6265 5.1.3: identical, or a parent domain of a host name (never of an IP address).
fn domain_match(host: &str, domain: &str) -> bool {
    if host == domain {
        return true;
    }
    let is_ip = host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok();
    !is_ip
        && host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// RFC 6265 5.1.4: the cookie path is the request path or one of its directories.
fn path_match(request: &str, cookie: &str) -> bool {
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request.as_bytes().get(cookie.len()) == Some(&b'/')))
}

impl CookieJar {
    /// A jar for the server at `url` whose requests all go to `path` (the Engine.IO path as
    /// sent, e.g. `/socket.io/`): it refuses cookies whose `Domain`, `Path` or `Secure`
    /// attribute rules that host, path or scheme out.
    pub fn for_server(url: &url::Url, path: &str) -> Self {
        let host = match url.host() {
            Some(url::Host::Ipv6(addr)) => format!("[{addr}]"),
            Some(host) => host.to_string().to_ascii_lowercase(),
            None => String::new(),
        };
        Self {
            cookies: BTreeMap::new(),
            scope: Some(Scope {
                host,
                path: path.to_owned(),
                secure: matches!(url.scheme(), "https" | "wss") || is_loopback(url),
            }),
        }
    }

    /// Takes the `Set-Cookie` headers of one response. `date` is that response's `Date` header.
    pub fn store<'a>(
        &mut self,
        now: Instant,
        set_cookies: impl IntoIterator<Item = &'a str>,
        date: Option<&str>,
    ) {
        let date = date.and_then(|d| httpdate::parse_http_date(d.trim()).ok());
        for header in set_cookies {
            let Some((name, cookie, placement)) = parse_set_cookie(now, header, date) else {
                continue;
            };
            if let Some(scope) = &self.scope
                && !scope.admits(&placement)
            {
                continue;
            }
            if cookie.expires.is_some_and(|at| at <= now) {
                self.cookies.remove(&name);
            } else {
                self.cookies.insert(name, cookie);
            }
        }
    }

    /// The `Cookie` header value for a request at `now`, or `None` when the jar is empty.
    pub fn header(&mut self, now: Instant) -> Option<String> {
        self.cookies
            .retain(|_, c| c.expires.is_none_or(|at| at > now));
        if self.cookies.is_empty() {
            return None;
        }
        let mut out = String::new();
        for (name, cookie) in &self.cookies {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(name);
            out.push('=');
            out.push_str(&cookie.value);
        }
        Some(out)
    }

    /// Whether the jar holds no cookie.
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }
}

fn parse_set_cookie(
    now: Instant,
    header: &str,
    date: Option<std::time::SystemTime>,
) -> Option<(String, Cookie, Placement<'_>)> {
    let mut parts = header.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let (name, value) = (name.trim(), value.trim());
    // Refuse what would corrupt the `Cookie` header we build from it.
    let bad = |s: &str| s.bytes().any(|b| b.is_ascii_control() || b == b';');
    if name.is_empty() || bad(name) || bad(value) || name.contains('=') {
        return None;
    }
    let mut max_age: Option<Option<Instant>> = None;
    let mut expires: Option<Option<Instant>> = None;
    let mut placement = Placement {
        domain: None,
        path: None,
        secure: false,
    };
    for attr in parts {
        let (key, val) = attr.split_once('=').unwrap_or((attr, ""));
        let key = key.trim();
        let val = val.trim();
        if key.eq_ignore_ascii_case("domain") {
            placement.domain = Some(val);
        } else if key.eq_ignore_ascii_case("path") {
            placement.path = Some(val);
        } else if key.eq_ignore_ascii_case("secure") {
            placement.secure = true;
        } else if key.eq_ignore_ascii_case("max-age") {
            if let Ok(secs) = val.parse::<i64>() {
                max_age = Some(if secs <= 0 {
                    Some(now)
                } else {
                    // A date too far to represent is a cookie that never expires.
                    now.checked_add(Duration::from_secs(secs.unsigned_abs()))
                });
            }
        } else if key.eq_ignore_ascii_case("expires")
            && let (Some(reference), Ok(at)) = (date, httpdate::parse_http_date(val))
        {
            expires = Some(match at.duration_since(reference) {
                Ok(ahead) if !ahead.is_zero() => now.checked_add(ahead),
                _ => Some(now),
            });
        }
    }
    // Max-Age wins over Expires (RFC 6265, 5.3 step 3).
    let expires = max_age.or(expires).flatten();
    Some((
        name.to_owned(),
        Cookie {
            value: value.to_owned(),
            expires,
        },
        placement,
    ))
}
