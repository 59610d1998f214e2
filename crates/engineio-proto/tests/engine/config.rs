//! Option validation: the caller's mistakes are typed and caught before any transmit.

use std::time::Instant;

use engineio_proto::{Client, Config, ConfigError, TransportKind, check_header, parse_server_url};

use crate::support::FixedRng;

fn new_client(c: Config) -> Result<Client, ConfigError> {
    Client::new(c, Instant::now(), &mut FixedRng(1), false)
}

#[test]
fn a_url_without_a_scheme_is_refused_as_such() {
    for url in [
        "localhost:3000",
        "localhost",
        "example.com/socket.io",
        "/socket.io",
        "",
    ] {
        assert!(
            matches!(Config::new(url), Err(ConfigError::MissingScheme(_))),
            "{url}: {:?}",
            Config::new(url).map(|_| ())
        );
    }
    let e = Config::new("localhost:3000").err().unwrap();
    assert!(e.to_string().contains("http://host:port"), "{e}");
}

#[test]
fn unsupported_schemes_are_refused() {
    for url in [
        "ftp://example.com",
        "file:///tmp/x",
        "mailto://x@example.com",
    ] {
        assert!(
            matches!(Config::new(url), Err(ConfigError::UnsupportedScheme(_))),
            "{url}"
        );
    }
    assert!(matches!(
        parse_server_url("http://"),
        Err(ConfigError::InvalidUrl { .. })
    ));
    for url in ["http://a", "https://a:1", "ws://a", "wss://a", "HTTP://A"] {
        assert!(Config::new(url).is_ok(), "{url}");
    }
}

#[test]
fn header_values_with_cr_lf_or_nul_are_refused() {
    for value in ["a\r\nx-injected: 1", "a\nb", "a\rb", "a\0b"] {
        let mut c = Config::new("http://a").unwrap();
        c.extra_headers = vec![("x-token".into(), value.into())];
        assert_eq!(
            c.validate(),
            Err(ConfigError::InvalidHeaderValue("x-token".into()))
        );
        // The client refuses it too, and the error shows the name, never the value.
        let e = new_client(c).err().unwrap();
        assert!(!e.to_string().contains("injected"));
    }
    assert!(check_header("x-ok", "value with spaces and \t tabs").is_ok());
}

#[test]
fn header_names_must_be_tokens() {
    for name in ["", "a b", "a:b", "é", "a\r"] {
        assert_eq!(
            check_header(name, "v"),
            Err(ConfigError::InvalidHeaderName(name.into())),
            "{name:?}"
        );
    }
}

#[test]
fn empty_transports_are_refused() {
    let mut c = Config::new("http://a").unwrap();
    c.transports.clear();
    assert_eq!(c.validate(), Err(ConfigError::NoTransports));
    assert!(matches!(new_client(c), Err(ConfigError::NoTransports)));
}

#[test]
fn other_options_are_checked() {
    let mut c = Config::new("http://a").unwrap();
    c.timestamp_param.clear();
    assert_eq!(c.validate(), Err(ConfigError::EmptyTimestampParam));

    let mut c = Config::new("http://a").unwrap();
    c.protocols = vec!["chat, superchat".into()];
    assert!(matches!(c.validate(), Err(ConfigError::InvalidProtocol(_))));

    let mut c = Config::new("http://a").unwrap();
    c.url = url::Url::parse("ftp://a").unwrap();
    assert!(matches!(
        c.validate(),
        Err(ConfigError::UnsupportedScheme(_))
    ));
}

#[test]
fn defaults_are_the_reference_defaults() {
    let c = Config::new("http://a").unwrap();
    assert_eq!(c.path, "/engine.io");
    assert!(c.add_trailing_slash);
    assert_eq!(
        c.transports,
        [TransportKind::Polling, TransportKind::WebSocket]
    );
    assert!(c.upgrade);
    assert!(!c.remember_upgrade);
    assert!(!c.try_all_transports);
    assert_eq!(c.timestamp_requests, None);
    assert_eq!(c.timestamp_param, "t");
    assert!(!c.force_base64);
    assert!(!c.with_credentials);
    assert_eq!(c.probe_timeout, std::time::Duration::from_secs(10));
}

#[test]
fn debug_output_hides_query_values_and_header_values() {
    let mut c = Config::new("http://a").unwrap();
    c.query = vec![("token".into(), "s3cret".into())];
    c.extra_headers = vec![("authorization".into(), "Bearer hunter2".into())];
    let debug = format!("{c:?}");
    assert!(debug.contains("token") && debug.contains("authorization"));
    assert!(!debug.contains("s3cret") && !debug.contains("hunter2"));
}

#[test]
fn transport_names_round_trip() {
    for kind in [TransportKind::Polling, TransportKind::WebSocket] {
        assert_eq!(TransportKind::from_name(kind.as_str()), Some(kind));
        assert_eq!(kind.to_string(), kind.as_str());
    }
    assert_eq!(TransportKind::from_name("webtransport"), None);
}
