//! `sio` end to end: the built binary as a real process against the real Node.js socket.io
//! server (crates/test-kit/node/server.js), in plain and JSON modes, `sio emit`, binary
//! arguments, auth, exit statuses and the help.

mod common;

use common::{Sio, json_lines, run, url};
use serde_json::json;

// The exit statuses `sio --help` documents.
const OK: i32 = 0;
const USAGE: i32 = 2;
const CONNECT: i32 = 3;
const ACK_TIMEOUT: i32 = 4;
const DISCONNECTED: i32 = 5;

#[test]
fn plain_mode_prints_events_and_emits_lines() {
    let mut sio = Sio::spawn(&[&url("/")]);
    sio.line("welcome", |l| l.starts_with("welcome {"));
    sio.err_line("connected", |l| l.starts_with("sio: connected to / (id "));

    // Without an ack the server emits the arguments back.
    sio.send(r#"echo "hello" {"to":"bob"}"#);
    sio.line("echo back", |l| l == r#"echo "hello" {"to":"bob"}"#);

    // With one, it answers through the ack.
    sio.send(r#"echo "hi" [1, 2] --ack"#);
    sio.line("ack", |l| l == r#"ack(echo) "hi" [1,2]"#);

    // A bad line is reported and skipped.
    sio.send("echo hello");
    sio.err_line("bad line", |l| l.contains("argument 1 is not JSON"));

    // Binary arrives as $binary objects.
    sio.send("binary");
    sio.line("binary", |l| {
        l == r#"binary {"$binary":"AQID"} {"nested":{"$binary":"BAU="},"text":"t"}"#
    });

    // An event that asks for an answer, answered.
    sio.send(r#"ask "sure?""#);
    sio.line("question", |l| l == r#"question "sure?""#);
    sio.err_line("reply hint", |l| l.contains("--reply 1"));
    sio.send(r#"--reply 1 "yes""#);
    sio.line("answer", |l| l == r#"answer ["yes"]"#);

    sio.close_stdin();
    sio.expect_status(OK);
}

#[test]
fn plain_mode_waits_for_acks_at_the_end_of_input() {
    let (sio, status) = run(&[&url("/chat")], "echo 1 --ack\necho 2 --ack\n");
    assert_eq!(status, OK, "{:?}", sio.stderr);
    assert!(
        sio.stdout.contains(&"ack(echo) 1".to_owned()),
        "{:?}",
        sio.stdout
    );
    assert!(
        sio.stdout.contains(&"ack(echo) 2".to_owned()),
        "{:?}",
        sio.stdout
    );
}

#[test]
fn json_mode_in_and_out() {
    let mut sio = Sio::spawn(&["--json", &url("/chat")]);
    let line = sio.line("connect", |l| l.contains(r#""connect""#));
    // "type" comes first, as documented.
    assert!(line.starts_with(r#"{"type":"connect","#), "{line}");
    let connect: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(connect["nsp"], "/chat");
    assert_eq!(connect["recovered"], false);
    assert!(connect["id"].is_string(), "{connect}");
    let welcome = sio.json("welcome", |v| v["event"] == "welcome");
    assert_eq!(welcome["type"], "event");
    assert_eq!(welcome["args"][0]["nsp"], "/chat");

    sio.send(r#"{"event":"echo","args":["a",{"b":[1,null]}],"ack":true,"id":"q1"}"#);
    let ack = sio.json("ack", |v| v["type"] == "ack");
    assert_eq!(
        ack,
        json!({"type": "ack", "id": "q1", "event": "echo", "args": ["a", {"b": [1, null]}]})
    );

    // Without an id, acks are counted.
    sio.send(r#"{"event":"echo","args":[2],"ack":true}"#);
    let ack = sio.json("counted ack", |v| {
        v["type"] == "ack" && v["args"] == json!([2])
    });
    assert_eq!(ack["id"], 2);

    sio.send(r#"{"event":"echo","args":[3]}"#);
    let echo = sio.json("echo", |v| v["event"] == "echo");
    assert_eq!(echo, json!({"type": "event", "event": "echo", "args": [3]}));

    sio.send("not json");
    let error = sio.json("error", |v| v["type"] == "error");
    assert!(
        error["message"].as_str().unwrap().contains("not JSON"),
        "{error}"
    );

    sio.send(r#"{"event":"ask","args":[{"q":1}]}"#);
    let question = sio.json("question", |v| v["event"] == "question");
    assert_eq!(question["args"], json!([{"q": 1}]));
    let reply = question["reply"].as_u64().expect("a reply number");
    sio.send(&format!(r#"{{"reply":{reply},"args":["yes",42]}}"#));
    let answer = sio.json("answer", |v| v["event"] == "answer");
    assert_eq!(answer["args"], json!([["yes", 42]]));

    // The server ends the session: a disconnect line and status 5.
    sio.send(r#"{"event":"kick"}"#);
    let disconnect = sio.json("disconnect", |v| v["type"] == "disconnect");
    assert_eq!(
        disconnect,
        json!({"type": "disconnect", "reason": "io server disconnect"})
    );
    sio.expect_status(DISCONNECTED);
}

#[test]
fn json_mode_binary_round_trip() {
    let mut sio = Sio::spawn(&["--json", &url("/")]);
    sio.json("connect", |v| v["type"] == "connect");
    // Binary at the top, nested in an object and in an array; padding optional on input.
    let sent = json!([
        {"$binary": "AAEC/w=="},
        {"file": {"name": "a.bin", "data": {"$binary": "aGVsbG8"}}},
        [1, {"$binary": ""}]
    ]);
    sio.send(&json!({"event": "echo", "args": sent, "ack": true}).to_string());
    let ack = sio.json("binary ack", |v| v["type"] == "ack");
    assert_eq!(
        ack["args"],
        json!([
            {"$binary": "AAEC/w=="},
            {"file": {"name": "a.bin", "data": {"$binary": "aGVsbG8="}}},
            [1, {"$binary": ""}]
        ])
    );
    // The server's own binary, several buffers, nested.
    sio.send(r#"{"event":"binary"}"#);
    let binary = sio.json("binary event", |v| v["event"] == "binary");
    assert_eq!(
        binary["args"],
        json!([{"$binary": "AQID"}, {"nested": {"$binary": "BAU="}, "text": "t"}])
    );
    // Bad base64 is refused before anything is sent.
    sio.send(r#"{"event":"echo","args":[{"$binary":"***"}]}"#);
    let error = sio.json("bad base64", |v| v["type"] == "error");
    assert!(
        error["message"].as_str().unwrap().contains("base64"),
        "{error}"
    );
    sio.close_stdin();
    sio.expect_status(OK);
}

#[test]
fn emit_prints_the_ack() {
    let (sio, status) = run(
        &[
            "emit",
            &url("/"),
            "echo",
            r#""hi""#,
            r#"{"n":-1.5}"#,
            "-2",
            "--ack",
        ],
        "",
    );
    assert_eq!(status, OK, "{:?}", sio.stderr);
    assert_eq!(sio.stdout, [r#"["hi",{"n":-1.5},-2]"#]);
}

#[test]
fn emit_json_binary_from_the_command_line_and_from_stdin() {
    let (sio, status) = run(
        &[
            "emit",
            "--json",
            &url("/"),
            "echo",
            r#"{"$binary":"AQID"}"#,
            "--ack",
        ],
        "",
    );
    assert_eq!(status, OK, "{:?}", sio.stderr);
    assert_eq!(
        json_lines(&sio),
        [json!({"type": "ack", "id": 1, "event": "echo", "args": [{"$binary": "AQID"}]})]
    );

    let line = r#"{"event":"echo","args":[{"x":{"$binary":"BAU="}}],"ack":true,"id":"z"}"#;
    let (sio, status) = run(&["emit", "--json", &url("/")], line);
    assert_eq!(status, OK, "{:?}", sio.stderr);
    assert_eq!(
        json_lines(&sio),
        [json!({"type": "ack", "id": "z", "event": "echo", "args": [{"x": {"$binary": "BAU="}}]})]
    );
}

#[test]
fn emit_without_ack_is_delivered_before_exit() {
    // A listener in room "r" sees what a one-shot `sio emit` broadcasts there.
    let mut listener = Sio::spawn(&["--json", "--keep-open", &url("/")]);
    listener.send(r#"{"event":"join","args":["r"],"ack":true}"#);
    listener.json("joined", |v| v["type"] == "ack");
    let (sio, status) = run(
        &[
            "emit",
            &url("/"),
            "broadcast",
            r#""r""#,
            r#""news""#,
            r#"{"a":1}"#,
        ],
        "",
    );
    assert_eq!(status, OK, "{:?}", sio.stderr);
    assert!(sio.stdout.is_empty(), "{:?}", sio.stdout);
    let news = listener.json("news", |v| v["event"] == "news");
    assert_eq!(news["args"], json!([{"a": 1}]));
}

#[test]
fn connect_error_without_auth_and_success_with_it() {
    let admin = url("/admin");
    let (sio, status) = run(&["emit", &admin, "echo", "1", "--ack"], "");
    assert_eq!(status, CONNECT);
    assert!(sio.stdout.is_empty());
    assert!(
        sio.stderr
            .iter()
            .any(|l| l.contains("connect_error: not authorized") && l.contains("bad token")),
        "{:?}",
        sio.stderr
    );

    let (sio, status) = run(&["emit", "--json", &admin, "echo", "1", "--ack"], "");
    assert_eq!(status, CONNECT);
    assert_eq!(
        json_lines(&sio),
        [
            json!({"type": "connect_error", "message": "not authorized", "data": {"reason": "bad token"}})
        ]
    );

    // The interactive mode stops too: a refusal is final.
    let (sio, status) = run(&["--json", &admin], "");
    assert_eq!(status, CONNECT);
    assert_eq!(json_lines(&sio)[0]["type"], "connect_error");

    let auth = r#"{"token":"secret"}"#;
    let (sio, status) = run(&["emit", &admin, "echo", "1", "--ack", "--auth", auth], "");
    assert_eq!(status, OK, "{:?}", sio.stderr);
    assert_eq!(sio.stdout, ["[1]"]);
}

#[test]
fn ack_timeout_has_its_own_status() {
    // `ignore` is never acked.
    let (sio, status) = run(
        &["emit", &url("/"), "ignore", "--ack", "--ack-timeout", "0.3"],
        "",
    );
    assert_eq!(status, ACK_TIMEOUT);
    assert!(
        sio.stderr
            .iter()
            .any(|l| l.contains("no ack for ignore: operation has timed out")),
        "{:?}",
        sio.stderr
    );
    // --timeout bounds the whole command.
    let (sio, status) = run(
        &[
            "emit",
            "--json",
            &url("/"),
            "ignore",
            "--ack",
            "--timeout",
            "1.5",
        ],
        "",
    );
    assert_eq!(status, ACK_TIMEOUT);
    assert_eq!(json_lines(&sio)[0]["type"], "ack_error");
}

#[test]
fn a_failed_ack_in_a_session_fails_the_exit_status() {
    // `ignore` is never acked; the echo is, and still printed.
    let (sio, status) = run(
        &["--ack-timeout", "0.3", &url("/")],
        "echo 1 --ack\nignore --ack\n",
    );
    assert_eq!(status, ACK_TIMEOUT, "{:?}", sio.stderr);
    assert!(
        sio.stdout.contains(&"ack(echo) 1".to_owned()),
        "{:?}",
        sio.stdout
    );
    assert!(
        sio.stderr
            .iter()
            .any(|l| l.contains("no ack for ignore: operation has timed out")),
        "{:?}",
        sio.stderr
    );
    // In JSON mode too.
    let (sio, status) = run(
        &["--json", "--ack-timeout", "0.3", &url("/")],
        "{\"event\":\"ignore\",\"ack\":true}\n",
    );
    assert_eq!(status, ACK_TIMEOUT, "{:?}", sio.stdout);
}

#[test]
fn plain_mode_counts_failed_reconnection_attempts_without_giving_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut sio = Sio::spawn(&["--timeout", "1", &format!("http://127.0.0.1:{port}")]);
    sio.err_line("the refused first attempt", |l| l.contains("connect_error"));
    sio.err_line("attempt 1", |l| l.contains("reconnect attempt 1 failed"));
    sio.err_line("attempt 2", |l| l.contains("reconnect attempt 2 failed"));
    // Still trying: nothing says it gave up.
    assert!(
        !sio.stderr.iter().any(|l| l.contains("reconnection failed")),
        "{:?}",
        sio.stderr
    );
}

#[test]
fn connection_options_reach_the_server() {
    let mut sio = Sio::spawn(&[
        "--json",
        "--transports",
        "websocket",
        "--query",
        "room=blue",
        "--header",
        "X-Sio-Test: yes",
        "--auth",
        r#"{"user":"ann"}"#,
        &url("/"),
    ]);
    let welcome = sio.json("welcome", |v| v["event"] == "welcome");
    let seen = &welcome["args"][0];
    assert_eq!(seen["transport"], "websocket");
    assert_eq!(seen["query"]["room"], "blue");
    assert_eq!(seen["headers"]["x-sio-test"], "yes");
    assert_eq!(seen["auth"], json!({"user": "ann"}));
    sio.close_stdin();
    sio.expect_status(OK);
}

#[test]
fn unreachable_server_without_reconnection() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (sio, status) = run(
        &[
            "--json",
            "--no-reconnect",
            &format!("http://127.0.0.1:{port}"),
        ],
        "",
    );
    assert_eq!(status, CONNECT);
    assert_eq!(json_lines(&sio)[0]["type"], "connect_error");
}

#[test]
fn bad_arguments_have_their_own_status() {
    for args in [
        vec!["emit", "http://127.0.0.1:1", "chat", "hello"],
        vec!["emit", "http://127.0.0.1:1"],
        vec!["--auth", "[1]", "http://127.0.0.1:1"],
        vec!["--query", "novalue", "http://127.0.0.1:1"],
        vec!["--ack-timeout", "soon", "http://127.0.0.1:1"],
        vec!["--transports", "carrier-pigeon", "http://127.0.0.1:1"],
        vec!["--ca", "/nonexistent/ca.pem", "https://127.0.0.1:1"],
        vec!["emit", "http://127.0.0.1:1", "connect"],
        vec![],
    ] {
        let (sio, status) = run(&args, "");
        assert_eq!(status, USAGE, "{args:?}: {:?}", sio.stderr);
        assert!(!sio.stderr.is_empty(), "{args:?} says why");
    }
}

#[test]
fn help_explains_flags_line_format_and_statuses() {
    let (sio, status) = run(&["--help"], "");
    assert_eq!(status, OK);
    let help = sio.stdout.join("\n");
    for needle in [
        "Usage: sio [OPTIONS] <URL>",
        "emit",
        "LINE FORMAT",
        "EVENT [JSON args...] [--ack]",
        r#"chat "hello" {"to":"bob"}"#,
        "--reply N",
        "JSON MODE",
        r#"{"event":"chat","args":["hello",{"to":"bob"}]}"#,
        r#"{"type":"ack","#,
        r#"{"$binary":"<base64>"}"#,
        "--transports",
        "--auth",
        "--query",
        "--header",
        "--path",
        "--ca",
        "--insecure",
        "--no-reconnect",
        "--ack-timeout",
        "--timeout",
        "--keep-open",
        "EXAMPLES",
        "EXIT STATUS",
        "3  could not connect",
        "4  ack timeout",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }

    let (sio, status) = run(&["emit", "--help"], "");
    assert_eq!(status, OK);
    let help = sio.stdout.join("\n");
    for needle in ["Usage: sio emit", "--ack", "EXIT STATUS", "4  ack timeout"] {
        assert!(
            help.contains(needle),
            "emit --help lacks {needle:?}:\n{help}"
        );
    }
    // `sio emit --help` has no JSON MODE section: it must not point "below" to one.
    assert!(!help.contains("JSON MODE below"), "{help}");
    assert!(help.contains("JSON MODE in `sio --help`"), "{help}");
}

#[test]
fn plain_output_quotes_names_that_are_not_one_word() {
    let mut sio = Sio::spawn(&[&url("/")]);
    sio.send(r#"join "r2" --ack"#);
    sio.line("joined", |l| l == "ack(join)");
    // The server sends `two words` to the room, which includes us.
    sio.send(r#"broadcast "r2" "two words" 1"#);
    sio.line("quoted name", |l| l == r#""two words" 1"#);
    sio.close_stdin();
    sio.expect_status(OK);
}
