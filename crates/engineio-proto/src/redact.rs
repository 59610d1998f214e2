//! Showing requests without their secrets, for `Debug` output and logs.
//!
//! What a request carries that can be a credential: header values (`Authorization`, `Cookie`),
//! the caller's query values (`?token=...`), the URL's user and password, and bodies and frames
//! (the Socket.IO CONNECT packet holds `auth`). These helpers keep what helps a diagnosis
//! (header names, query names, the protocol's own parameters, sizes) and hide the rest.

use std::fmt;

use url::Url;

use crate::request::Header;

/// What hidden values are replaced with.
pub const REDACTED: &str = "<redacted>";

/// Query parameters of the protocol itself, shown with their values: they identify the
/// session and transport and are what a transcript needs.
const PROTOCOL_PARAMS: [&str; 4] = ["EIO", "transport", "sid", "b64"];

/// `url` with its user, password and every query value except the protocol's own
/// (`EIO`, `transport`, `sid`, `b64`) replaced by [`REDACTED`].
pub fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() {
        let _ = shown.set_username(REDACTED);
    }
    if shown.password().is_some() {
        let _ = shown.set_password(Some(REDACTED));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let value = if PROTOCOL_PARAMS.contains(&k.as_ref()) {
                    v.into_owned()
                } else {
                    REDACTED.to_owned()
                };
                (k.into_owned(), value)
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// Formats headers as their names only.
pub struct HeaderNames<'a>(pub &'a [Header]);

impl fmt::Debug for HeaderNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

/// Formats a body or frame as its length only.
pub(crate) struct Len(pub usize);

impl fmt::Debug for Len {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}
