//! TLS options for the rustls-based adapters: verification on by default (chain and host
//! name), extra CAs, the bundled Mozilla roots and/or the operating system's trust store,
//! client certificates (PEM, encrypted PKCS#8 PEM with a passphrase, or a PKCS#12 bundle), a
//! restricted cipher list, or a caller-built `rustls::ClientConfig`.
//!
//! Three options need an opt-in Cargo feature, off by default because of the crates they pull
//! in (the adapters re-export each under the same name):
//!
//! | option | feature | what it adds |
//! | --- | --- | --- |
//! | [`TlsOptions::pfx`] | `pfx` | p12-keystore (PKCS#12; pre-release RustCrypto crates) |
//! | an encrypted [`TlsOptions::key`] with [`TlsOptions::passphrase`] | `encrypted-keys` | pkcs8 with PBES2 (scrypt, AES, DES) |
//! | [`Roots::Os`], [`Roots::BundledAndOs`] | `native-roots` | rustls-native-certs |
//!
//! Using one of them without its feature is [`TlsError::FeatureDisabled`], naming the feature.

use std::fmt;
use std::sync::Arc;

#[cfg(feature = "pfx")]
use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
#[cfg(feature = "encrypted-keys")]
use pkcs8::{EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef, SecretDocument};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::crypto::ring::cipher_suite;
#[cfg(any(feature = "pfx", feature = "encrypted-keys"))]
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme, SupportedCipherSuite,
    SupportedProtocolVersion,
};

mod handshake;

pub use handshake::handshake_failure;

/// Which trust anchors verify the server's certificate, besides [`TlsOptions::ca`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Roots {
    /// The Mozilla roots bundled in the binary (webpki-roots). The default: the same on every
    /// machine, nothing read from disk, works in minimal containers without a CA bundle.
    #[default]
    Bundled,
    /// The operating system's trust store, read when the options are built (rustls-native-certs:
    /// the CA bundle files on Linux and BSD, the keychain on macOS, the system store on Windows).
    /// For CAs that an administrator installed on the machine, such as a company's. Needs the
    /// `native-roots` feature.
    Os,
    /// Both of the above. Needs the `native-roots` feature.
    BundledAndOs,
}

/// The error a parser or rustls gave for an option's value, kept as the [`source`] of a
/// [`TlsError`]. Shared so that errors stay `Clone`; the concrete types (rustls's, the PEM
/// reader's `std::io::Error`, pkcs8's, p12-keystore's) can be reached with `downcast_ref`.
///
/// [`source`]: std::error::Error::source
pub type TlsSourceError = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Which field of [`TlsOptions`] a [`TlsError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsOption {
    /// [`TlsOptions::ca`].
    Ca,
    /// [`TlsOptions::cert`].
    Cert,
    /// [`TlsOptions::key`].
    Key,
    /// [`TlsOptions::pfx`].
    Pfx,
    /// [`TlsOptions::passphrase`].
    Passphrase,
    /// [`TlsOptions::ciphers`].
    Ciphers,
    /// [`TlsOptions::roots`].
    Roots,
}

impl TlsOption {
    /// The field's name, as in socket.io-client (`ca`, `cert`, `key`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ca => "ca",
            Self::Cert => "cert",
            Self::Key => "key",
            Self::Pfx => "pfx",
            Self::Passphrase => "passphrase",
            Self::Ciphers => "ciphers",
            Self::Roots => "roots",
        }
    }
}

impl fmt::Display for TlsOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why [`TlsOptions::build`] failed. Every variant but [`OsTrustStore`](Self::OsTrustStore)
/// and [`Rustls`](Self::Rustls) is the caller's: fix the option it names.
///
/// ```
/// # use socketio_async::tls::{TlsError, TlsOption, TlsOptions};
/// let mut tls = TlsOptions::default();
/// tls.ciphers = Some("RC4-MD5".into());
/// match tls.build() {
///     Err(TlsError::UnknownCipher { name }) => assert_eq!(name, "RC4-MD5"),
///     Err(TlsError::Malformed { option: TlsOption::Ca, .. }) => unreachable!("no CA was given"),
///     Err(TlsError::FeatureDisabled { feature, .. }) => panic!("enable the `{feature}` feature"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TlsError {
    /// An option was set whose support is behind a Cargo feature this build does not have.
    FeatureDisabled {
        /// The option, e.g. `pfx`.
        option: &'static str,
        /// The feature of socketio-async (re-exported by socketio-tokio and
        /// socketio-async-std under the same name) that supports it, e.g. `pfx`.
        feature: &'static str,
    },
    /// Two options that are alternatives were both set: `pfx` together with `cert` or `key`.
    Conflict {
        /// The option that excludes the other (`pfx`).
        option: TlsOption,
        /// The one set beside it (`cert` or `key`).
        with: TlsOption,
    },
    /// An option was set without one it needs: `cert` without `key` or the reverse, an
    /// encrypted `key` without `passphrase`.
    Missing {
        /// The option that is missing.
        option: TlsOption,
        /// The option that needs it.
        needed_by: TlsOption,
    },
    /// An option's value does not read as what it should hold: PEM that does not decode, a
    /// CA certificate rustls refuses, a key that does not go with the certificate, an
    /// encrypted key or a `pfx` that is not well-formed. The parser's error is the source.
    Malformed {
        /// The option whose value it is.
        option: TlsOption,
        /// What the parser (or rustls) said.
        source: TlsSourceError,
    },
    /// An option reads but holds nothing usable: no certificate in `cert`, no private key in
    /// `key`, no private key with its certificate in `pfx`, no cipher suite in `ciphers`.
    Empty(TlsOption),
    /// `passphrase` does not decrypt the `key` or the `pfx` (the field named here).
    WrongPassphrase(TlsOption),
    /// The `key` is a legacy OpenSSL-encrypted PEM (`Proc-Type: 4,ENCRYPTED`), which is not
    /// read: convert it with `openssl pkcs8 -topk8`.
    LegacyEncryptedKey,
    /// The encrypted `key` uses an encryption scheme this build does not implement (PBES2
    /// with PBKDF2 or scrypt and AES-CBC is read). pkcs8's error is the source.
    UnsupportedKeyEncryption(TlsSourceError),
    /// A name in `ciphers` that is not one of the suites rustls implements (OpenSSL keywords
    /// such as `HIGH` are not read either).
    UnknownCipher {
        /// The name as given.
        name: String,
    },
    /// [`Roots::Os`] or [`Roots::BundledAndOs`] was asked for, and the machine's trust store
    /// gave no usable certificate: the environment's fault (install a CA bundle, or use the
    /// bundled roots). The store's first error, if it reported one, is the source.
    OsTrustStore(Option<TlsSourceError>),
    /// rustls refused a configuration these options should always give: a bug of this crate.
    Rustls(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FeatureDisabled { option, feature } => write!(
                f,
                "the TLS option {option} needs the `{feature}` feature: enable it on \
                 socketio-tokio, socketio-async-std or socketio-async in Cargo.toml \
                 (features = [\"{feature}\"])"
            ),
            Self::Conflict { option, with } => {
                write!(
                    f,
                    "{option} and {with} are alternatives: give one or the other"
                )
            }
            Self::Missing { option, needed_by } => {
                write!(f, "{needed_by} needs {option}")
            }
            Self::Malformed { option, source } => write!(f, "invalid {option}: {source}"),
            Self::Empty(TlsOption::Ciphers) => f.write_str("ciphers names no cipher suite"),
            Self::Empty(TlsOption::Pfx) => {
                f.write_str("no private key with its certificate in the pfx")
            }
            Self::Empty(TlsOption::Key) => f.write_str("no private key in the key PEM"),
            Self::Empty(option) => write!(f, "no certificate in the {option} PEM"),
            Self::WrongPassphrase(option) => {
                write!(f, "cannot decrypt the {option}: wrong passphrase")
            }
            Self::LegacyEncryptedKey => f.write_str(
                "legacy OpenSSL-encrypted PEM keys (Proc-Type: 4,ENCRYPTED) are not supported: \
                 convert the key with `openssl pkcs8 -topk8`",
            ),
            Self::UnsupportedKeyEncryption(source) => write!(
                f,
                "unsupported private key encryption ({source}): PBES2 with PBKDF2 or scrypt \
                 and AES-CBC is read"
            ),
            Self::UnknownCipher { name } => {
                let accepted: Vec<&str> = known_suites().iter().map(|(name, ..)| *name).collect();
                write!(
                    f,
                    "unknown or unsupported cipher {name:?} in ciphers; accepted (OpenSSL, IANA \
                     or rustls names): {}",
                    accepted.join(", ")
                )
            }
            Self::OsTrustStore(Some(source)) => {
                write!(f, "cannot read the OS trust store: {source}")
            }
            Self::OsTrustStore(None) => {
                f.write_str("the OS trust store holds no usable certificate")
            }
            Self::Rustls(e) => write!(f, "rustls refused the configuration: {e}"),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Malformed { source, .. }
            | Self::UnsupportedKeyEncryption(source)
            | Self::OsTrustStore(Some(source)) => Some(&**source),
            Self::Rustls(e) => Some(e),
            _ => None,
        }
    }
}

impl TlsError {
    /// The option the error is about, if it is about one field (`None` for a disabled
    /// feature, which names its option as text, and for [`Rustls`](Self::Rustls)).
    pub fn option(&self) -> Option<TlsOption> {
        match self {
            Self::Conflict { option, .. }
            | Self::Missing { option, .. }
            | Self::Malformed { option, .. }
            | Self::Empty(option)
            | Self::WrongPassphrase(option) => Some(*option),
            Self::LegacyEncryptedKey | Self::UnsupportedKeyEncryption(_) => Some(TlsOption::Key),
            Self::UnknownCipher { .. } => Some(TlsOption::Ciphers),
            Self::OsTrustStore(_) => Some(TlsOption::Roots),
            Self::FeatureDisabled { .. } | Self::Rustls(_) => None,
        }
    }

    /// A [`Malformed`](Self::Malformed) error about `option`, caused by `source`.
    fn malformed(
        option: TlsOption,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Malformed {
            option,
            source: Arc::new(source),
        }
    }
}

/// TLS options (socket.io-client's `ca`, `cert`, `key`, `pfx`, `passphrase`, `ciphers`,
/// `rejectUnauthorized`).
#[derive(Clone)]
#[non_exhaustive]
pub struct TlsOptions {
    /// Extra trusted CA certificates, PEM (added to the [`roots`](Self::roots)).
    pub ca: Vec<Vec<u8>>,
    /// The trust anchors besides `ca`: the bundled Mozilla roots (the default) and/or the
    /// operating system's store.
    pub roots: Roots,
    /// A client certificate chain, PEM, with `key`. Not together with `pfx`.
    pub cert: Option<Vec<u8>>,
    /// The client certificate's private key, PEM: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE
    /// KEY`) or PKCS#1 (`RSA PRIVATE KEY`), or encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2
    /// as made by `openssl pkcs8 -topk8 -v2 aes-256-cbc` or `openssl genpkey -aes-256-cbc`)
    /// decrypted with `passphrase` (needs the `encrypted-keys` feature). Legacy
    /// OpenSSL-encrypted PEM (`Proc-Type: 4,ENCRYPTED`) is refused: convert it with
    /// `openssl pkcs8 -topk8`.
    pub key: Option<Vec<u8>>,
    /// A PKCS#12 bundle (DER, as made by `openssl pkcs12 -export`) holding the client
    /// certificate, its chain and its private key, decrypted with `passphrase` (none means the
    /// empty password). Instead of `cert` and `key`; giving both is an error. PBES2 (AES,
    /// PBKDF2: openssl 3's default) and the legacy 3DES/RC2 schemes are read; the MAC is
    /// checked. CA certificates in the bundle are sent with the client certificate, not
    /// trusted for the server (use `ca` for that). Needs the `pfx` feature.
    pub pfx: Option<Vec<u8>>,
    /// The passphrase of an encrypted `key` or of `pfx`. Ignored for an unencrypted key; never
    /// shown by `Debug`.
    pub passphrase: Option<String>,
    /// The cipher suites to offer, as an OpenSSL cipher list such as
    /// `"ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384"`; `None` (the default) offers
    /// rustls's defaults, all of the ones below. Names are separated by `:`, `,` or spaces, matched case-insensitively,
    /// offered in the order given; OpenSSL, IANA and rustls spellings are accepted:
    ///
    /// | OpenSSL | IANA (rustls also accepts `TLS13_…` for TLS 1.3) |
    /// | --- | --- |
    /// | `TLS_AES_256_GCM_SHA384` | `TLS_AES_256_GCM_SHA384` (TLS 1.3) |
    /// | `TLS_AES_128_GCM_SHA256` | `TLS_AES_128_GCM_SHA256` (TLS 1.3) |
    /// | `TLS_CHACHA20_POLY1305_SHA256` | `TLS_CHACHA20_POLY1305_SHA256` (TLS 1.3) |
    /// | `ECDHE-ECDSA-AES256-GCM-SHA384` | `TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384` |
    /// | `ECDHE-ECDSA-AES128-GCM-SHA256` | `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256` |
    /// | `ECDHE-ECDSA-CHACHA20-POLY1305` | `TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256` |
    /// | `ECDHE-RSA-AES256-GCM-SHA384` | `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384` |
    /// | `ECDHE-RSA-AES128-GCM-SHA256` | `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` |
    /// | `ECDHE-RSA-CHACHA20-POLY1305` | `TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256` |
    ///
    /// The list is exact: only the suites named are offered, so a list without TLS 1.3 suites
    /// limits the connection to TLS 1.2 and one without TLS 1.2 suites to TLS 1.3. (Node
    /// disables TLS 1.2 the same way but keeps its TLS 1.3 defaults when the list names no
    /// TLS 1.3 suite; name them to keep TLS 1.3 here.) Any other name (OpenSSL keywords such
    /// as `HIGH` or `!aNULL`, suites rustls does not implement such as CBC or RSA key
    /// exchange) and a list naming no suite are errors when the options are built.
    pub ciphers: Option<String>,
    /// Verify the server's certificate chain and host name. Default `true`; `false` accepts
    /// any certificate and is only for tests.
    pub reject_unauthorized: bool,
    /// A complete rustls configuration to use instead of all of the above.
    pub client_config: Option<Arc<ClientConfig>>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        Self {
            ca: Vec::new(),
            roots: Roots::Bundled,
            cert: None,
            key: None,
            pfx: None,
            passphrase: None,
            ciphers: None,
            reject_unauthorized: true,
            client_config: None,
        }
    }
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsOptions")
            .field("ca", &self.ca.len())
            .field("roots", &self.roots)
            .field("cert", &self.cert.is_some())
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("pfx", &self.pfx.as_ref().map(|_| "<redacted>"))
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "<redacted>"),
            )
            .field("ciphers", &self.ciphers)
            .field("reject_unauthorized", &self.reject_unauthorized)
            .field("client_config", &self.client_config.is_some())
            .finish()
    }
}

impl TlsOptions {
    /// Builds the rustls configuration, with the ring provider chosen explicitly so that
    /// `https`/`wss` never fail for lack of a process-wide provider.
    ///
    /// Fails on invalid PEM, a wrong passphrase, an unreadable `pfx`, `pfx` together with
    /// `cert`/`key`, `cert` without `key` (or the reverse), an unknown or empty `ciphers`, an
    /// OS trust store with no usable certificate, and an option whose Cargo feature is off
    /// ([`TlsError::FeatureDisabled`]). With `client_config` the other fields are not looked at.
    pub fn build(&self) -> Result<Arc<ClientConfig>, TlsError> {
        if let Some(config) = &self.client_config {
            return Ok(config.clone());
        }
        let mut provider = rustls::crypto::ring::default_provider();
        if let Some(list) = &self.ciphers {
            provider.cipher_suites = cipher_suites(list)?;
        }
        let versions = protocol_versions(&provider);
        let provider = Arc::new(provider);
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(TlsError::Rustls)?;
        let builder = if self.reject_unauthorized {
            let mut roots = RootCertStore::empty();
            if matches!(self.roots, Roots::Bundled | Roots::BundledAndOs) {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            if matches!(self.roots, Roots::Os | Roots::BundledAndOs) {
                add_os_roots(&mut roots)?;
            }
            for pem in &self.ca {
                for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                    let cert = cert.map_err(|e| TlsError::malformed(TlsOption::Ca, e))?;
                    roots
                        .add(cert)
                        .map_err(|e| TlsError::malformed(TlsOption::Ca, e))?;
                }
            }
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        };
        let config = match self.client_identity()? {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain, key)
                // The key does not match the certificate, or is of a kind rustls cannot sign
                // with: the key option's value.
                .map_err(|e| TlsError::malformed(TlsOption::Key, e))?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }

    /// The client certificate chain and key, from `cert`/`key` or from `pfx`.
    fn client_identity(&self) -> Result<Option<ClientIdentity>, TlsError> {
        let passphrase = self.passphrase.as_deref();
        match (&self.pfx, &self.cert, &self.key) {
            (Some(_), Some(_), _) => Err(TlsError::Conflict {
                option: TlsOption::Pfx,
                with: TlsOption::Cert,
            }),
            (Some(_), _, Some(_)) => Err(TlsError::Conflict {
                option: TlsOption::Pfx,
                with: TlsOption::Key,
            }),
            (Some(pfx), None, None) => pfx_identity(pfx, passphrase.unwrap_or("")).map(Some),
            (None, Some(cert), Some(key)) => {
                let chain = rustls_pemfile::certs(&mut cert.as_slice())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| TlsError::malformed(TlsOption::Cert, e))?;
                if chain.is_empty() {
                    return Err(TlsError::Empty(TlsOption::Cert));
                }
                Ok(Some((chain, private_key(key, passphrase)?)))
            }
            (None, None, None) => Ok(None),
            (None, Some(_), None) => Err(TlsError::Missing {
                option: TlsOption::Key,
                needed_by: TlsOption::Cert,
            }),
            (None, None, Some(_)) => Err(TlsError::Missing {
                option: TlsOption::Cert,
                needed_by: TlsOption::Key,
            }),
        }
    }
}

/// A client certificate chain (leaf first) and its private key.
type ClientIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The private key in `pem`, decrypted with `passphrase` if it is encrypted PKCS#8.
fn private_key(pem: &[u8], passphrase: Option<&str>) -> Result<PrivateKeyDer<'static>, TlsError> {
    if let Some(key) = rustls_pemfile::private_key(&mut &pem[..])
        .map_err(|e| TlsError::malformed(TlsOption::Key, e))?
    {
        return Ok(key);
    }
    let text = std::str::from_utf8(pem).map_err(|e| TlsError::malformed(TlsOption::Key, e))?;
    if let Some(block) = pem_block(text, "ENCRYPTED PRIVATE KEY") {
        return decrypt_key(block, passphrase);
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(TlsError::LegacyEncryptedKey);
    }
    Err(TlsError::Empty(TlsOption::Key))
}

/// Decrypts an `ENCRYPTED PRIVATE KEY` PEM block (PBES2).
#[cfg(feature = "encrypted-keys")]
fn decrypt_key(block: &str, passphrase: Option<&str>) -> Result<PrivateKeyDer<'static>, TlsError> {
    let passphrase = passphrase.ok_or(TlsError::Missing {
        option: TlsOption::Passphrase,
        needed_by: TlsOption::Key,
    })?;
    let (_, document) =
        SecretDocument::from_pem(block).map_err(|e| TlsError::malformed(TlsOption::Key, e))?;
    let info = EncryptedPrivateKeyInfoRef::try_from(document.as_bytes())
        .map_err(|e| TlsError::malformed(TlsOption::Key, e))?;
    let wrong = TlsError::WrongPassphrase(TlsOption::Key);
    let plain = info.decrypt(passphrase.as_bytes()).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::UnsupportedAlgorithm { .. }) => {
            TlsError::UnsupportedKeyEncryption(Arc::new(e))
        }
        // Any other decryption failure (bad padding, mostly) is what a wrong passphrase
        // gives; the passphrase is not echoed.
        _ => wrong.clone(),
    })?;
    // A wrong passphrase that happens to unpad cleanly still yields no key.
    PrivateKeyInfoRef::try_from(plain.as_bytes()).map_err(|_| wrong)?;
    Ok(PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec()).into())
}

/// Without the `encrypted-keys` feature an encrypted key is refused, naming the feature.
#[cfg(not(feature = "encrypted-keys"))]
fn decrypt_key(_: &str, _: Option<&str>) -> Result<PrivateKeyDer<'static>, TlsError> {
    Err(TlsError::FeatureDisabled {
        option: "key (an ENCRYPTED PRIVATE KEY with passphrase)",
        feature: "encrypted-keys",
    })
}

/// Adds the operating system's trust anchors. Certificates the store holds that rustls cannot
/// use are skipped (stores often carry a few); a store with none usable is an error, since
/// every connection would then fail verification.
#[cfg(feature = "native-roots")]
fn add_os_roots(roots: &mut RootCertStore) -> Result<(), TlsError> {
    let loaded = rustls_native_certs::load_native_certs();
    let (added, _skipped) = roots.add_parsable_certificates(loaded.certs);
    if added == 0 {
        let source = loaded
            .errors
            .into_iter()
            .next()
            .map(|e| Arc::new(e) as TlsSourceError);
        return Err(TlsError::OsTrustStore(source));
    }
    Ok(())
}

/// Without the `native-roots` feature the OS store is refused, naming the feature.
#[cfg(not(feature = "native-roots"))]
fn add_os_roots(_: &mut RootCertStore) -> Result<(), TlsError> {
    Err(TlsError::FeatureDisabled {
        option: "roots (the OS trust store)",
        feature: "native-roots",
    })
}

/// The first PEM block labelled `label` in `text`, markers included.
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = start + text[start..].find(&end)? + end.len();
    Some(&text[start..stop])
}

/// The certificate chain and key of a PKCS#12 bundle.
#[cfg(feature = "pfx")]
fn pfx_identity(pfx: &[u8], passphrase: &str) -> Result<ClientIdentity, TlsError> {
    let store = KeyStore::from_pkcs12(pfx, passphrase, Pkcs12ImportPolicy::Strict).map_err(
        |e| match e {
            // The MAC is keyed by the passphrase: a mismatch is a wrong passphrase.
            p12_keystore::error::Error::MacError(_) => TlsError::WrongPassphrase(TlsOption::Pfx),
            // Other failures may still be a wrong passphrase (a bundle without a MAC whose
            // contents then do not decrypt) or a scheme p12-keystore does not read.
            e => TlsError::malformed(TlsOption::Pfx, e),
        },
    )?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or(TlsError::Empty(TlsOption::Pfx))?;
    let certs = chain
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    let key = PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec());
    Ok((certs, key.into()))
}

/// Without the `pfx` feature a bundle is refused, naming the feature.
#[cfg(not(feature = "pfx"))]
fn pfx_identity(_: &[u8], _: &str) -> Result<ClientIdentity, TlsError> {
    Err(TlsError::FeatureDisabled {
        option: "pfx",
        feature: "pfx",
    })
}

/// The cipher suites of the ring provider by OpenSSL name, IANA name and rustls name.
fn known_suites() -> [(
    &'static str,
    &'static str,
    &'static str,
    SupportedCipherSuite,
); 9] {
    use cipher_suite as cs;
    [
        (
            "TLS_AES_256_GCM_SHA384",
            "TLS_AES_256_GCM_SHA384",
            "TLS13_AES_256_GCM_SHA384",
            cs::TLS13_AES_256_GCM_SHA384,
        ),
        (
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_128_GCM_SHA256",
            "TLS13_AES_128_GCM_SHA256",
            cs::TLS13_AES_128_GCM_SHA256,
        ),
        (
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS13_CHACHA20_POLY1305_SHA256",
            cs::TLS13_CHACHA20_POLY1305_SHA256,
        ),
        (
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ),
        (
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ),
        (
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ),
        (
            "ECDHE-RSA-AES256-GCM-SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ),
        (
            "ECDHE-RSA-AES128-GCM-SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ),
        (
            "ECDHE-RSA-CHACHA20-POLY1305",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ),
    ]
}

/// The suites an OpenSSL-style cipher list names, in its order, without repeats.
fn cipher_suites(list: &str) -> Result<Vec<SupportedCipherSuite>, TlsError> {
    let known = known_suites();
    let mut suites = Vec::new();
    for name in list
        .split(|c: char| c == ':' || c == ',' || c.is_whitespace())
        .filter(|n| !n.is_empty())
    {
        let Some(&(.., suite)) = known.iter().find(|(openssl, iana, rustls, _)| {
            [openssl, iana, rustls]
                .iter()
                .any(|known| known.eq_ignore_ascii_case(name))
        }) else {
            return Err(TlsError::UnknownCipher {
                name: name.to_owned(),
            });
        };
        if !suites.contains(&suite) {
            suites.push(suite);
        }
    }
    if suites.is_empty() {
        return Err(TlsError::Empty(TlsOption::Ciphers));
    }
    Ok(suites)
}

/// TLS 1.3 and/or 1.2, whichever the provider has suites for.
fn protocol_versions(provider: &CryptoProvider) -> Vec<&'static SupportedProtocolVersion> {
    [&rustls::version::TLS13, &rustls::version::TLS12]
        .into_iter()
        .filter(|v| {
            provider
                .cipher_suites
                .iter()
                .any(|s| s.version().version == v.version)
        })
        .collect()
}

/// `reject_unauthorized: false`: accepts any certificate, still checks signatures.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_names_are_the_suites_of_the_ring_provider() {
        let known = known_suites();
        let provider = rustls::crypto::ring::default_provider();
        assert_eq!(known.len(), provider.cipher_suites.len());
        for (_, _, rustls_name, suite) in known {
            assert!(provider.cipher_suites.contains(&suite), "{rustls_name}");
            assert_eq!(format!("{:?}", suite.suite()), rustls_name);
        }
    }

    #[test]
    fn a_cipher_list_keeps_its_order_and_chooses_the_versions() {
        let suites = cipher_suites(
            "ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384, \
             tls_ecdhe_ecdsa_with_aes_256_gcm_sha384 TLS13_AES_256_GCM_SHA384",
        )
        .expect("known names");
        assert_eq!(
            suites,
            [
                cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                cipher_suite::TLS13_AES_256_GCM_SHA384,
                cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            ]
        );
        let mut provider = rustls::crypto::ring::default_provider();
        provider.cipher_suites = cipher_suites("ECDHE-ECDSA-AES128-GCM-SHA256").expect("known");
        assert_eq!(protocol_versions(&provider), [&rustls::version::TLS12]);
        provider.cipher_suites = cipher_suites("TLS_AES_128_GCM_SHA256").expect("known");
        assert_eq!(protocol_versions(&provider), [&rustls::version::TLS13]);
    }

    #[test]
    fn unknown_or_empty_cipher_lists_are_refused() {
        for (list, unknown) in [
            ("HIGH:!aNULL", "HIGH"),
            ("AES128-SHA", "AES128-SHA"),
            ("ECDHE-RSA-AES128-GCM-SHA256:nope", "nope"),
        ] {
            let error = cipher_suites(list).expect_err(list);
            assert!(
                matches!(&error, TlsError::UnknownCipher { name } if name == unknown),
                "{error:?}"
            );
            // The message lists what is accepted.
            assert!(
                error.to_string().contains("ECDHE-RSA-AES128-GCM-SHA256"),
                "{error}"
            );
        }
        for list in ["", " : ,"] {
            let error = cipher_suites(list).expect_err(list);
            assert!(
                matches!(error, TlsError::Empty(TlsOption::Ciphers)),
                "{error:?}"
            );
        }
        let tls = TlsOptions {
            ciphers: Some("RC4-MD5".into()),
            ..TlsOptions::default()
        };
        let error = tls.build().expect_err("unknown");
        assert!(
            matches!(&error, TlsError::UnknownCipher { name } if name == "RC4-MD5"),
            "{error:?}"
        );
        assert_eq!(error.option(), Some(TlsOption::Ciphers));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let tls = TlsOptions {
            passphrase: Some("hunter2-secret".into()),
            key: Some(b"key material".to_vec()),
            pfx: Some(b"pfx material".to_vec()),
            ..TlsOptions::default()
        };
        let debug = format!("{tls:?}");
        for secret in ["hunter2", "key material", "pfx material"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(
            debug.contains("passphrase: Some(\"<redacted>\")"),
            "{debug}"
        );
    }

    #[test]
    fn pfx_and_cert_key_are_alternatives() {
        let mut tls = TlsOptions {
            pfx: Some(vec![0x30]),
            key: Some(Vec::new()),
            ..TlsOptions::default()
        };
        let error = tls.build().expect_err("both");
        assert!(
            matches!(
                error,
                TlsError::Conflict {
                    option: TlsOption::Pfx,
                    with: TlsOption::Key
                }
            ),
            "{error:?}"
        );
        tls.key = None;
        let error = tls.build().expect_err("junk");
        if cfg!(feature = "pfx") {
            assert_eq!(error.option(), Some(TlsOption::Pfx), "{error:?}");
        } else {
            assert!(
                matches!(error, TlsError::FeatureDisabled { option: "pfx", .. }),
                "{error:?}"
            );
        }
    }

    #[test]
    fn cert_and_key_go_together_and_their_parsers_are_the_source() {
        use std::error::Error as _;
        let cert = b"-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n".to_vec();
        let only_cert = TlsOptions {
            cert: Some(cert.clone()),
            ..TlsOptions::default()
        };
        assert!(matches!(
            only_cert.build(),
            Err(TlsError::Missing {
                option: TlsOption::Key,
                needed_by: TlsOption::Cert
            })
        ));
        let only_key = TlsOptions {
            key: Some(b"key".to_vec()),
            ..TlsOptions::default()
        };
        assert!(matches!(
            only_key.build(),
            Err(TlsError::Missing {
                option: TlsOption::Cert,
                needed_by: TlsOption::Key
            })
        ));
        let no_key = TlsOptions {
            cert: Some(cert),
            key: Some(b"not a PEM".to_vec()),
            ..TlsOptions::default()
        };
        assert!(matches!(
            no_key.build(),
            Err(TlsError::Empty(TlsOption::Key))
        ));
        let bad_ca = TlsOptions {
            ca: vec![
                b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec(),
            ],
            ..TlsOptions::default()
        };
        let error = bad_ca.build().expect_err("bad PEM");
        assert!(
            matches!(
                error,
                TlsError::Malformed {
                    option: TlsOption::Ca,
                    ..
                }
            ),
            "{error:?}"
        );
        // The PEM reader's own error is reachable through source().
        let source = error.source().expect("a source");
        assert!(
            source.downcast_ref::<std::io::Error>().is_some(),
            "{source:?}"
        );
    }

    #[test]
    fn options_behind_a_disabled_feature_name_it() {
        let pfx = TlsOptions {
            pfx: Some(vec![0x30]),
            ..TlsOptions::default()
        };
        let encrypted = TlsOptions {
            cert: Some(b"-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n".to_vec()),
            key: Some(
                b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMA==\n-----END ENCRYPTED PRIVATE KEY-----\n"
                    .to_vec(),
            ),
            passphrase: Some("secret".into()),
            ..TlsOptions::default()
        };
        let os = TlsOptions {
            roots: Roots::Os,
            ..TlsOptions::default()
        };
        for (tls, feature, enabled) in [
            (pfx, "pfx", cfg!(feature = "pfx")),
            (
                encrypted,
                "encrypted-keys",
                cfg!(feature = "encrypted-keys"),
            ),
            (os, "native-roots", cfg!(feature = "native-roots")),
        ] {
            let result = tls.build();
            if enabled {
                // With the feature the junk values fail for what they are, not for the feature.
                if let Err(error) = result {
                    assert!(
                        !matches!(error, TlsError::FeatureDisabled { .. }),
                        "{error}"
                    );
                }
            } else {
                let error = result.expect_err(feature);
                assert!(
                    matches!(error, TlsError::FeatureDisabled { feature: f, .. } if f == feature),
                    "{error:?}"
                );
                let text = error.to_string();
                assert!(text.contains(&format!("`{feature}` feature")), "{text}");
            }
        }
    }

    /// Cheap where the machine has a CA bundle (every CI image with ca-certificates): the OS
    /// store loads, alone and beside the bundled roots.
    #[cfg(feature = "native-roots")]
    #[test]
    fn the_os_trust_store_loads() {
        let mut store = RootCertStore::empty();
        match add_os_roots(&mut store) {
            Ok(()) => assert!(!store.is_empty()),
            // A machine without a CA bundle says so rather than verifying nothing.
            Err(error) => assert!(matches!(error, TlsError::OsTrustStore(_)), "{error:?}"),
        }
        for roots in [Roots::Os, Roots::BundledAndOs] {
            let tls = TlsOptions {
                roots,
                ..TlsOptions::default()
            };
            if !store.is_empty() {
                tls.build().expect("the OS store builds");
            }
        }
    }
}
