//! The cookie jar behind `with_credentials`: what makes cookie-based sticky sessions (AWS ALB,
//! HAProxy) work for a client that is not a browser.
//!
//! One jar belongs to one client, which talks to one host, so cookies are scoped to the host
//! that set them by construction. Like the reference's Node jar it honours `Max-Age` and
//! `Expires` and ignores `Domain` and `Path`.
//!
//! `Expires` is a wall-clock date and this crate reads no clock: it is measured against the
//! response's own `Date` header (which Node servers send), so `Expires=<Date>` means "already
//! expired". Without a `Date` header an `Expires` cookie lives for the session.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Cookies kept for one server.
#[derive(Debug, Default, Clone)]
pub struct CookieJar {
    cookies: BTreeMap<String, Cookie>,
}

#[derive(Debug, Clone)]
struct Cookie {
    value: String,
    expires: Option<Instant>,
}

impl CookieJar {
    /// Takes the `Set-Cookie` headers of one response. `date` is that response's `Date` header.
    pub fn store<'a>(
        &mut self,
        now: Instant,
        set_cookies: impl IntoIterator<Item = &'a str>,
        date: Option<&str>,
    ) {
        let date = date.and_then(|d| httpdate::parse_http_date(d.trim()).ok());
        for header in set_cookies {
            let Some((name, cookie)) = parse_set_cookie(now, header, date) else {
                continue;
            };
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
) -> Option<(String, Cookie)> {
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
    for attr in parts {
        let (key, val) = attr.split_once('=').unwrap_or((attr, ""));
        let key = key.trim();
        let val = val.trim();
        if key.eq_ignore_ascii_case("max-age") {
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
    ))
}
