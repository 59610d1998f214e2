//! TLS options for the rustls-based adapters: verification on by default (chain and host name), extra CAs, client
//! certificates, or a caller-built `rustls::ClientConfig`.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// TLS options (socket.io-client's `ca`, `cert`, `key`, `rejectUnauthorized`).
#[derive(Clone)]
#[non_exhaustive]
pub struct TlsOptions {
    /// Extra trusted CA certificates, PEM (added to the Mozilla roots).
    pub ca: Vec<Vec<u8>>,
    /// A client certificate chain, PEM, with `key`.
    pub cert: Option<Vec<u8>>,
    /// The client certificate's private key, PEM (unencrypted).
    pub key: Option<Vec<u8>>,
    /// Verify the server's certificate chain and host name. Default `true`; `false` accepts
    /// any certificate and is only for tests.
    pub reject_unauthorized: bool,
    /// A complete rustls configuration to use instead of the above.
    pub client_config: Option<Arc<ClientConfig>>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self {
            ca: Vec::new(),
            cert: None,
            key: None,
            reject_unauthorized: true,
            client_config: None,
        }
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("ca", &self.ca.len())
            .field("cert", &self.cert.is_some())
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("reject_unauthorized", &self.reject_unauthorized)
            .field("client_config", &self.client_config.is_some())
            .finish()
    }
}

impl TlsOptions {
    /// Builds the rustls configuration, with the ring provider chosen explicitly so that
    /// `https`/`wss` never fail for lack of a process-wide provider.
    pub fn build(&self) -> Result<Arc<ClientConfig>, String> {
        if let Some(config) = &self.client_config {
            return Ok(config.clone());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = if self.reject_unauthorized {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            for pem in &self.ca {
                for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                    let cert = cert.map_err(|e| format!("invalid CA PEM: {e}"))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("invalid CA certificate: {e}"))?;
                }
            }
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        };
        let config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let chain = rustls_pemfile::certs(&mut cert.as_slice())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("invalid client certificate PEM: {e}"))?;
                let key = rustls_pemfile::private_key(&mut key.as_slice())
                    .map_err(|e| format!("invalid private key PEM: {e}"))?
                    .ok_or("no private key in the key PEM (encrypted keys are not supported)")?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| e.to_string())?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err("cert and key go together".into()),
        };
        Ok(Arc::new(config))
    }
}

/// `reject_unauthorized: false`: accepts any certificate, still checks signatures.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
