//! The HTTP CONNECT handshake with a proxy (sans-IO): arbitrary answers from the proxy, cut
//! into arbitrary reads.
//!
//! Input: one byte per read size (the low 6 bits, plus one), then the proxy's bytes.
//!
//! Checks: nothing panics; memory is bounded (the head is refused past its limit); the tunnel
//! is established only on a complete 2xx status line (after any empty lines) with nothing
//! after the head; once established, any further byte is an error; after an error the
//! handshake is not fed again (as the adapters do) and `closed()` still answers.

#![no_main]

use libfuzzer_sys::fuzz_target;
use socketio_async::proxy::{
    ConnectHandshake, MAX_RESPONSE_HEAD, Progress, ProxyError, ProxyOptions,
};

fuzz_target!(|data: &[u8]| {
    let Some((&sizes, answer)) = data.split_first() else {
        return;
    };
    let proxy = ProxyOptions::new("http://127.0.0.1:3128")
        .expect("a valid proxy URL")
        .credentials("user", "pass");
    let mut handshake = ConnectHandshake::new(&proxy, "example.com", 443);
    assert!(
        handshake
            .request()
            .starts_with(b"CONNECT example.com:443 HTTP/1.1\r\n")
    );
    let step = usize::from(sizes & 63) + 1;
    let mut fed = 0;
    let mut outcome = Ok(Progress::NeedMore);
    for chunk in answer.chunks(step) {
        outcome = handshake.feed(chunk);
        fed += chunk.len();
        match &outcome {
            Ok(Progress::NeedMore) => assert!(fed <= MAX_RESPONSE_HEAD),
            Ok(Progress::Established) => {
                let text = String::from_utf8_lossy(&answer[..fed]);
                // Empty lines before the status line are skipped (RFC 9112 section 2.2's
                // robustness rule, which httparse follows).
                let head = text.trim_start_matches(['\r', '\n']);
                assert!(head.starts_with("HTTP/1."), "established on {text:?}");
                assert_eq!(
                    handshake.feed(b"x"),
                    Err(ProxyError::UnexpectedData),
                    "bytes after the tunnel opened must be refused"
                );
                break;
            }
            Err(_) => break,
        }
    }
    let _ = handshake.closed();
    let _ = format!("{handshake:?} {outcome:?}");
});
