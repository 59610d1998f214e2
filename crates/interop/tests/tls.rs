//! TLS against the real Node.js server over https and wss, on every runtime, with a throwaway CA and server
//! certificates made at test time by the `openssl` command: the default verification refuses
//! the unknown chain, `TlsOptions::ca` trusts it, `reject_unauthorized: false` accepts
//! anything, a certificate for another name is refused, a caller-built
//! `rustls::ClientConfig` is used as given, client certificates get through mutual TLS (PEM,
//! encrypted PKCS#8 with `passphrase`, PKCS#12 `pfx`), and `ciphers` restricts what is
//! negotiated (the server reports the protocol and cipher in its welcome).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls::{AlertDescription, CertificateError};
use socketio_async::runtime::IoErrorKind;
use socketio_async::tls::{TlsError, TlsOption, TlsOptions};
use socketio_async::{ConnectError, Error};
use socketio_interop::{NodeServer, Rt, on_every_runtime, options};
use socketio_proto::ManagerError;

/// A CA and the server certificates it signed, in a temporary directory removed on drop.
struct Pki {
    dir: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("the TLS tests need the openssl command: {e}"));
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Pki {
    /// The CA, a certificate for 127.0.0.1 and localhost (`server`), one for another name
    /// (`other`), and a client certificate (`client`).
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "socketio-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=socketio test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&dir, &ca);
        openssl(
            &dir,
            &["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"],
        );
        for (name, serial, san, usage) in [
            (
                "server",
                "0x1001",
                "DNS:localhost,IP:127.0.0.1",
                "serverAuth",
            ),
            ("other", "0x1002", "DNS:other.example", "serverAuth"),
            ("client", "0x1003", "DNS:client.example", "clientAuth"),
        ] {
            let ext = format!(
                "subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n\
                 keyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n"
            );
            std::fs::write(dir.join(format!("{name}.ext")), ext).expect("ext file");
            let (key, csr, pem, extfile) = (
                format!("{name}.key"),
                format!("{name}.csr"),
                format!("{name}.pem"),
                format!("{name}.ext"),
            );
            let subject = format!("/CN={name}");
            let mut req = vec!["req"];
            req.extend(ec);
            req.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
            openssl(&dir, &req);
            openssl(
                &dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-set_serial",
                    serial,
                    "-days",
                    "2",
                    "-extfile",
                    &extfile,
                    "-out",
                    &pem,
                ],
            );
        }
        Self { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_str().expect("UTF-8 path").to_owned()
    }

    fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.pem")).expect("CA PEM")
    }

    fn ca_der(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.der")).expect("CA DER")
    }

    fn read(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(file)).expect("PEM file")
    }

    /// The Node server over https with certificate `name`.
    fn server(&self, name: &str) -> NodeServer {
        let key = self.path(&format!("{name}.key"));
        let cert = self.path(&format!("{name}.pem"));
        NodeServer::start(&[("TLS_KEY", &key), ("TLS_CERT", &cert)])
    }

    /// The client key encrypted with `passphrase` (PBES2, AES-256-CBC): PEM.
    fn encrypted_client_key(&self, passphrase: &str) -> Vec<u8> {
        let pass = format!("pass:{passphrase}");
        openssl(
            &self.dir,
            &[
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-in",
                "client.key",
                "-out",
                "client.enc.key",
                "-passout",
                &pass,
            ],
        );
        let pem = self.read("client.enc.key");
        assert!(pem.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        pem
    }

    /// The client certificate, its key and the CA in a PKCS#12 bundle protected by
    /// `passphrase`, with openssl's defaults (PBES2 AES-256-CBC, PBKDF2, SHA-256 MAC) and
    /// `extra` arguments: DER.
    fn client_pfx(&self, passphrase: &str, extra: &[&str]) -> Vec<u8> {
        let pass = format!("pass:{passphrase}");
        let mut args = vec![
            "pkcs12",
            "-export",
            "-in",
            "client.pem",
            "-inkey",
            "client.key",
            "-certfile",
            "ca.pem",
            "-name",
            "client",
            "-out",
            "client.p12",
            "-passout",
            &pass,
        ];
        args.extend(extra);
        openssl(&self.dir, &args);
        self.read("client.p12")
    }

    /// The Node server over https, TLS 1.2 only, with the one suite `cipher` (OpenSSL name).
    fn server_with_cipher(&self, cipher: &str) -> NodeServer {
        let (key, cert) = (self.path("server.key"), self.path("server.pem"));
        let tls = format!(r#"{{"ciphers":"{cipher}","maxVersion":"TLSv1.2"}}"#);
        NodeServer::start(&[
            ("TLS_KEY", &key),
            ("TLS_CERT", &cert),
            ("TLS_OPTIONS", &tls),
        ])
    }

    /// The Node server over https that requires a client certificate from the CA.
    fn mutual_server(&self) -> NodeServer {
        let (key, cert, ca) = (
            self.path("server.key"),
            self.path("server.pem"),
            self.path("ca.pem"),
        );
        NodeServer::start(&[
            ("TLS_KEY", &key),
            ("TLS_CERT", &cert),
            ("TLS_CLIENT_CA", &ca),
        ])
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn https(server: &NodeServer) -> String {
    format!("https://127.0.0.1:{}", server.port)
}

/// Connects in `mode` with `tls` on `rt`'s adapter, checks the transport and the echo.
async fn connects(rt: &Rt, url: &str, mode: &str, tls: &TlsOptions) {
    let rt = rt.with_tls(tls);
    let socket = rt.io(url, options(mode)).expect("io");
    let mut events = socket.events();
    let w = rt.welcome(&mut events).await;
    let expected = if mode == "websocket" {
        "websocket"
    } else {
        "polling"
    };
    assert_eq!(w["transport"], expected);
    if mode == "upgrade" {
        rt.settles_on(&socket, "websocket").await;
    }
    let (v,): (String,) = rt
        .within("the echo", socket.emit_with_ack("echo", ("over tls",)))
        .await
        .expect("ack");
    assert_eq!(v, "over tls");
}

/// Fails to connect in `mode` with `tls`; the error's text (a server that refuses a client
/// certificate after a TLS 1.3 handshake fails the first request, not the handshake).
async fn refused(rt: &Rt, url: &str, mode: &str, tls: &TlsOptions) -> rustls::Error {
    let rt = rt.with_tls(tls);
    let socket = rt.io(url, options(mode).reconnection(false)).expect("io");
    let mut events = socket.events();
    match rt.failed_to_connect(&socket, &mut events).await {
        ConnectError::Engine(e) => tls_failure(&e, mode),
        other => panic!("{other:?}"),
    }
}

/// The rustls error behind a connection that failed in the TLS handshake: a failure of kind
/// `Tls` whose source is rustls's error.
fn tls_failure(error: &ManagerError, mode: &str) -> rustls::Error {
    let io = error
        .transport_error()
        .and_then(|t| t.io_error())
        .unwrap_or_else(|| panic!("{mode}: not an IO failure: {error:?}"));
    assert_eq!(io.kind(), IoErrorKind::Tls, "{mode}: {io:?}");
    std::error::Error::source(io)
        .and_then(|s| s.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("{mode}: no rustls error behind {io:?}"))
        .clone()
}

/// The TLS error that building the adapter with `tls` fails with.
fn build_error(rt: &Rt, tls: &TlsOptions) -> TlsError {
    match rt.try_with_tls(tls) {
        Err(Error::Tls(e)) => e,
        Err(other) => panic!("not a TLS option error: {other:?}"),
        Ok(_) => panic!("the options built"),
    }
}

async fn default_options_refuse_an_unknown_chain(rt: Rt) {
    let pki = Pki::new();
    let server = pki.server("server");
    for mode in ["polling", "websocket"] {
        let socket = rt
            .io(&https(&server), options(mode).reconnection(false))
            .expect("io");
        let mut events = socket.events();
        let error = match rt.failed_to_connect(&socket, &mut events).await {
            // A certificate the client refuses is a TLS failure, by kind, with rustls's error.
            ConnectError::Engine(e) => tls_failure(&e, mode),
            other => panic!("{other:?}"),
        };
        assert!(
            matches!(
                error,
                rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
            ),
            "{mode}: {error:?}"
        );
    }
}

async fn a_trusted_ca_connects_over_https_and_wss(rt: Rt) {
    let pki = Pki::new();
    let server = pki.server("server");
    let mut tls = TlsOptions::default();
    tls.ca = vec![pki.ca_pem()];
    for mode in ["polling", "websocket", "upgrade"] {
        connects(&rt, &https(&server), mode, &tls).await;
    }
    // wss:// in the URL works the same.
    let wss = format!("wss://127.0.0.1:{}", server.port);
    connects(&rt, &wss, "websocket", &tls).await;
}

async fn reject_unauthorized_false_accepts_any_certificate(rt: Rt) {
    let pki = Pki::new();
    // Even one for another name, from an unknown CA.
    let server = pki.server("other");
    let mut tls = TlsOptions::default();
    tls.reject_unauthorized = false;
    for mode in ["polling", "websocket"] {
        connects(&rt, &https(&server), mode, &tls).await;
    }
}

async fn a_certificate_for_another_name_is_refused(rt: Rt) {
    let pki = Pki::new();
    let server = pki.server("other");
    let mut tls = TlsOptions::default();
    tls.ca = vec![pki.ca_pem()];
    for mode in ["polling", "websocket"] {
        let error = refused(&rt, &https(&server), mode, &tls).await;
        assert!(
            matches!(
                error,
                rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
            ),
            "{mode}: {error:?}"
        );
    }
}

async fn a_caller_built_client_config_is_used(rt: Rt) {
    let pki = Pki::new();
    let server = pki.server("server");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(pki.ca_der()))
        .expect("CA");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut tls = TlsOptions::default();
    tls.client_config = Some(Arc::new(config));
    // The other fields are ignored when a whole configuration is given.
    tls.reject_unauthorized = false;
    for mode in ["polling", "websocket"] {
        connects(&rt, &https(&server), mode, &tls).await;
    }
    // Its roots are the only ones: the same config refuses the other certificate's name.
    let other = pki.server("other");
    let error = refused(&rt, &https(&other), "polling", &tls).await;
    assert!(
        matches!(
            error,
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
        ),
        "{error:?}"
    );
}

async fn an_invalid_ca_is_refused_at_construction(rt: Rt) {
    let mut tls = TlsOptions::default();
    tls.ca =
        vec![b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec()];
    let error = build_error(&rt, &tls);
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
    let mut tls = TlsOptions::default();
    tls.cert = Some(Vec::new());
    let error = build_error(&rt, &tls);
    assert!(
        matches!(
            error,
            TlsError::Missing {
                option: TlsOption::Key,
                needed_by: TlsOption::Cert
            }
        ),
        "{error:?}"
    );
}

async fn a_client_certificate_gets_through_mutual_tls(rt: Rt) {
    let pki = Pki::new();
    let server = pki.mutual_server();
    let mut tls = TlsOptions::default();
    tls.ca = vec![pki.ca_pem()];
    tls.cert = Some(pki.read("client.pem"));
    tls.key = Some(pki.read("client.key"));
    for mode in ["polling", "websocket"] {
        connects(&rt, &https(&server), mode, &tls).await;
    }
    // Without one, the server ends the handshake.
    tls.cert = None;
    tls.key = None;
    for mode in ["polling", "websocket"] {
        // Under TLS 1.3 the server's refusal can arrive after the client's side of the
        // handshake is done, as an alert or as a closed connection: only the refusal is sure.
        let rt = rt.with_tls(&tls);
        let socket = rt
            .io(&https(&server), options(mode).reconnection(false))
            .expect("io");
        let mut events = socket.events();
        let error = rt.failed_to_connect(&socket, &mut events).await;
        assert!(
            matches!(error, ConnectError::Engine(_)),
            "{mode}: {error:?}"
        );
    }
}

/// Connects in `mode` with `tls`; the protocol and cipher the server saw, `(protocol, cipher)`.
async fn negotiated(rt: &Rt, url: &str, mode: &str, tls: &TlsOptions) -> (String, String) {
    let rt = rt.with_tls(tls);
    let socket = rt.io(url, options(mode)).expect("io");
    let mut events = socket.events();
    let w = rt.welcome(&mut events).await;
    let field = |name: &str| {
        w["tls"][name]
            .as_str()
            .unwrap_or_else(|| panic!("{mode}: no tls.{name} in the welcome: {w}"))
            .to_owned()
    };
    (field("protocol"), field("cipher"))
}

async fn ciphers_choose_the_negotiated_suite(rt: Rt) {
    let pki = Pki::new();
    let server = pki.server("server");
    let mut tls = TlsOptions::default();
    tls.ca = vec![pki.ca_pem()];
    // By default the server picks TLS 1.3.
    let (protocol, _) = negotiated(&rt, &https(&server), "polling", &tls).await;
    assert_eq!(protocol, "TLSv1.3");
    // One TLS 1.2 suite (the certificate is ECDSA): that one, over TLS 1.2.
    tls.ciphers = Some("ECDHE-ECDSA-AES128-GCM-SHA256".into());
    for mode in ["polling", "websocket"] {
        let got = negotiated(&rt, &https(&server), mode, &tls).await;
        let want = ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256");
        assert_eq!((got.0.as_str(), got.1.as_str()), want, "{mode}");
        connects(&rt, &https(&server), mode, &tls).await;
    }
    // One TLS 1.3 suite, by its IANA name; an IANA TLS 1.2 name works as well.
    tls.ciphers = Some("TLS_CHACHA20_POLY1305_SHA256".into());
    let got = negotiated(&rt, &https(&server), "websocket", &tls).await;
    assert_eq!(
        got,
        ("TLSv1.3".into(), "TLS_CHACHA20_POLY1305_SHA256".into())
    );
    tls.ciphers = Some("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256".into());
    let got = negotiated(&rt, &https(&server), "polling", &tls).await;
    assert_eq!(
        got,
        ("TLSv1.2".into(), "ECDHE-ECDSA-CHACHA20-POLY1305".into())
    );
}

async fn ciphers_the_server_does_not_take_fail_to_connect(rt: Rt) {
    let pki = Pki::new();
    // TLS 1.2 with one suite only.
    let server = pki.server_with_cipher("ECDHE-ECDSA-AES256-GCM-SHA384");
    let mut tls = TlsOptions::default();
    tls.ca = vec![pki.ca_pem()];
    // The default list includes it.
    let got = negotiated(&rt, &https(&server), "polling", &tls).await;
    assert_eq!(
        got,
        ("TLSv1.2".into(), "ECDHE-ECDSA-AES256-GCM-SHA384".into())
    );
    // Restricted to others, TLS 1.3 ones included: no common suite.
    tls.ciphers = Some(
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:TLS_AES_256_GCM_SHA384".into(),
    );
    for mode in ["polling", "websocket"] {
        let error = refused(&rt, &https(&server), mode, &tls).await;
        assert!(
            matches!(
                error,
                rustls::Error::AlertReceived(AlertDescription::HandshakeFailure)
            ),
            "{mode}: {error:?}"
        );
    }
}

async fn an_unknown_cipher_is_refused_at_construction(rt: Rt) {
    let mut tls = TlsOptions::default();
    // A real OpenSSL suite, but CBC: rustls does not implement it.
    tls.ciphers = Some("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA".into());
    let error = build_error(&rt, &tls);
    assert!(
        matches!(&error, TlsError::UnknownCipher { name } if name == "ECDHE-RSA-AES128-SHA"),
        "{error:?}"
    );
    tls.ciphers = Some(String::new());
    let error = build_error(&rt, &tls);
    assert!(
        matches!(error, TlsError::Empty(TlsOption::Ciphers)),
        "{error:?}"
    );
}

async fn an_encrypted_key_with_its_passphrase_gets_through_mutual_tls(rt: Rt) {
    let pki = Pki::new();
    let server = pki.mutual_server();
    let mut tls = TlsOptions::default();
    tls.ca = vec![pki.ca_pem()];
    tls.cert = Some(pki.read("client.pem"));
    tls.key = Some(pki.encrypted_client_key("correct horse"));
    tls.passphrase = Some("correct horse".into());
    assert!(!format!("{tls:?}").contains("correct horse"));
    for mode in ["polling", "websocket"] {
        connects(&rt, &https(&server), mode, &tls).await;
    }
    tls.passphrase = Some("wrong horse".into());
    let error = build_error(&rt, &tls);
    assert!(
        matches!(error, TlsError::WrongPassphrase(TlsOption::Key)),
        "{error:?}"
    );
    // The passphrase is a secret: neither the message nor the debug form shows it.
    assert!(!error.to_string().contains("horse"), "{error}");
    assert!(!format!("{error:?}").contains("horse"), "{error:?}");
    tls.passphrase = None;
    let error = build_error(&rt, &tls);
    assert!(
        matches!(
            error,
            TlsError::Missing {
                option: TlsOption::Passphrase,
                needed_by: TlsOption::Key
            }
        ),
        "{error:?}"
    );
}

async fn a_pfx_gets_through_mutual_tls(rt: Rt) {
    let pki = Pki::new();
    let server = pki.mutual_server();
    let mut tls = TlsOptions::default();
    tls.ca = vec![pki.ca_pem()];
    tls.pfx = Some(pki.client_pfx("open sesame", &[]));
    tls.passphrase = Some("open sesame".into());
    for mode in ["polling", "websocket"] {
        connects(&rt, &https(&server), mode, &tls).await;
    }
    // The older 3DES / SHA-1 MAC bundles too.
    let legacy = [
        "-keypbe",
        "PBE-SHA1-3DES",
        "-certpbe",
        "PBE-SHA1-3DES",
        "-macalg",
        "sha1",
    ];
    tls.pfx = Some(pki.client_pfx("open sesame", &legacy));
    connects(&rt, &https(&server), "polling", &tls).await;
    // And openssl's `-legacy` ones (certificates under 40-bit RC2).
    tls.pfx = Some(pki.client_pfx("open sesame", &["-legacy"]));
    connects(&rt, &https(&server), "polling", &tls).await;
    // No passphrase: the empty password.
    tls.pfx = Some(pki.client_pfx("", &[]));
    tls.passphrase = None;
    connects(&rt, &https(&server), "websocket", &tls).await;
    tls.passphrase = Some("close sesame".into());
    let error = build_error(&rt, &tls);
    assert!(
        matches!(error, TlsError::WrongPassphrase(TlsOption::Pfx)),
        "{error:?}"
    );
    // Not together with cert and key.
    tls.passphrase = Some("open sesame".into());
    tls.cert = Some(pki.read("client.pem"));
    tls.key = Some(pki.read("client.key"));
    let error = build_error(&rt, &tls);
    assert!(
        matches!(
            error,
            TlsError::Conflict {
                option: TlsOption::Pfx,
                with: TlsOption::Cert
            }
        ),
        "{error:?}"
    );
}

on_every_runtime!(
    default_options_refuse_an_unknown_chain,
    a_trusted_ca_connects_over_https_and_wss,
    reject_unauthorized_false_accepts_any_certificate,
    a_certificate_for_another_name_is_refused,
    a_caller_built_client_config_is_used,
    an_invalid_ca_is_refused_at_construction,
    a_client_certificate_gets_through_mutual_tls,
    ciphers_choose_the_negotiated_suite,
    ciphers_the_server_does_not_take_fail_to_connect,
    an_unknown_cipher_is_refused_at_construction,
    an_encrypted_key_with_its_passphrase_gets_through_mutual_tls,
    a_pfx_gets_through_mutual_tls,
);
