//! TLS against the real Node.js server over https and wss, on every runtime, with a throwaway CA and server
//! certificates made at test time by the `openssl` command: the default verification refuses
//! the unknown chain, `TlsOptions::ca` trusts it, `reject_unauthorized: false` accepts
//! anything, a certificate for another name is refused, and a caller-built
//! `rustls::ClientConfig` is used as given.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use socketio_client::ConnectError;
use socketio_client::tls::TlsOptions;
use socketio_interop::{NodeServer, Rt, on_every_runtime, options};

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

/// Fails to connect in `mode` with `tls`; the error's text.
async fn refused(rt: &Rt, url: &str, mode: &str, tls: &TlsOptions) -> String {
    let rt = rt.with_tls(tls);
    let socket = rt.io(url, options(mode).reconnection(false)).expect("io");
    let mut events = socket.events();
    match rt.connect_error(&mut events).await {
        ConnectError::Engine(e) => e,
        other => panic!("{other:?}"),
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
        let error = match rt.connect_error(&mut events).await {
            ConnectError::Engine(e) => e,
            other => panic!("{other:?}"),
        };
        assert!(error.contains("UnknownIssuer"), "{mode}: {error}");
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
        assert!(error.contains("not valid for name"), "{mode}: {error}");
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
    assert!(error.contains("not valid for name"), "{error}");
}

async fn an_invalid_ca_is_refused_at_construction(rt: Rt) {
    let mut tls = TlsOptions::default();
    tls.ca =
        vec![b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".to_vec()];
    let error = rt.try_with_tls(&tls).expect_err("invalid PEM");
    assert!(error.to_string().contains("CA"), "{error}");
    let mut tls = TlsOptions::default();
    tls.cert = Some(Vec::new());
    assert!(rt.try_with_tls(&tls).is_err(), "cert without key");
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
        refused(&rt, &https(&server), mode, &tls).await;
    }
}

on_every_runtime!(
    default_options_refuse_an_unknown_chain,
    a_trusted_ca_connects_over_https_and_wss,
    reject_unauthorized_false_accepts_any_certificate,
    a_certificate_for_another_name_is_refused,
    a_caller_built_client_config_is_used,
    an_invalid_ca_is_refused_at_construction,
    a_client_certificate_gets_through_mutual_tls,
);
