//! `--ca` and `--insecure` against the Node.js server over https, with a throwaway CA and
//! server certificate made at test time by the `openssl` command.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::run;
use socketio_test_kit::node::NodeServer;

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(dir: &Path, args: &str) {
    let output = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("this test needs the openssl command: {e}"));
    assert!(
        output.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `ca.pem`, and `server.pem` / `server.key` for 127.0.0.1 signed by it.
fn certificates() -> TempDir {
    let dir = std::env::temp_dir().join(format!("sio-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let dir = TempDir(dir);
    let key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    openssl(
        &dir.0,
        &format!(
            "req -x509 {key} -keyout ca.key -out ca.pem -days 2 -subj /CN=sio-test-ca \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign"
        ),
    );
    openssl(
        &dir.0,
        &format!("req {key} -keyout server.key -out server.csr -subj /CN=127.0.0.1"),
    );
    std::fs::write(
        dir.0.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions file");
    openssl(
        &dir.0,
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 7 -days 2 \
         -extfile server.ext -out server.pem",
    );
    dir
}

#[test]
fn https_needs_the_ca_or_insecure() {
    let pki = certificates();
    let file = |name: &str| pki.0.join(name).to_str().expect("UTF-8 path").to_owned();
    let server = NodeServer::start(&[
        ("TLS_KEY", &file("server.key")),
        ("TLS_CERT", &file("server.pem")),
    ]);
    let url = format!("https://127.0.0.1:{}/", server.port);

    // An unknown CA: the connection fails.
    let (sio, status) = run(&["emit", &url, "echo", "1", "--ack"], "");
    assert_eq!(status, 3, "{:?}", sio.stderr);
    assert!(
        sio.stderr.iter().any(|l| l.contains("connect_error")),
        "{:?}",
        sio.stderr
    );

    let (sio, status) = run(
        &["emit", &url, "echo", "1", "--ack", "--ca", &file("ca.pem")],
        "",
    );
    assert_eq!(status, 0, "{:?}", sio.stderr);
    assert_eq!(sio.stdout, ["[1]"]);

    let (sio, status) = run(
        &[
            "emit",
            &url,
            "echo",
            "2",
            "--ack",
            "--insecure",
            "--transports",
            "websocket",
        ],
        "",
    );
    assert_eq!(status, 0, "{:?}", sio.stderr);
    assert_eq!(sio.stdout, ["[2]"]);
}
