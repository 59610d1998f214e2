//! What a failed TLS handshake is reported as, the same for every rustls-based adapter.

use engineio_proto::{IoError, IoErrorKind};

/// The [`IoError`] an adapter reports for a TLS handshake that failed with `error` (the
/// `std::io::Error` that rustls's stream wrappers return).
///
/// A reset or close during the handshake is the connection's failure
/// ([`IoErrorKind::Closed`]); anything else is [`IoErrorKind::Tls`]. rustls's own error is
/// kept as the [`source`] where there is one, so that callers can tell an unknown issuer from a
/// name mismatch by variant rather than by message; otherwise the IO error is.
///
/// [`source`]: std::error::Error::source
pub fn handshake_failure(error: std::io::Error) -> IoError {
    let kind = match IoErrorKind::of(&error) {
        IoErrorKind::Closed => IoErrorKind::Closed,
        _ => IoErrorKind::Tls,
    };
    let failure = IoError::new(kind, format!("tls: {error}"));
    let rustls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    match rustls {
        Some(rustls) => failure.with_source(rustls),
        None => failure.with_source(error),
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::io;

    use super::*;

    #[test]
    fn a_reset_is_the_connections_failure() {
        let failure = handshake_failure(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(failure.kind(), IoErrorKind::Closed);
    }

    #[test]
    fn rustls_error_is_the_source() {
        let cause = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let failure = handshake_failure(io::Error::new(io::ErrorKind::InvalidData, cause.clone()));
        assert_eq!(failure.kind(), IoErrorKind::Tls);
        assert_eq!(failure.message(), format!("tls: {cause}"));
        let source = failure
            .source()
            .and_then(|s| s.downcast_ref::<rustls::Error>());
        assert_eq!(source, Some(&cause));
    }

    #[test]
    fn other_io_errors_are_tls_failures_with_the_io_error_as_source() {
        let failure = handshake_failure(io::Error::other("no common protocol"));
        assert_eq!(failure.kind(), IoErrorKind::Tls);
        let source = failure.source().and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(source.map(io::Error::kind), Some(io::ErrorKind::Other));
    }
}
