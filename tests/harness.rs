//! The loopback test server itself answers as the other tests expect.

mod common;

use std::io::{Read, Write};

use common::{Reply, Routes, TestServer};

#[test]
fn serves_routes_and_counts_hits() {
    let server = TestServer::start(
        Routes::new()
            .at("/ok", Reply::html("<p>hello</p>"))
            .at("/moved", Reply::redirect(301, "/ok")),
    );
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "GET /ok?x=1 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("<p>hello</p>"));
    assert_eq!(server.hits("/ok"), 1);
    assert_eq!(server.hits("/missing"), 0);
    assert_eq!(server.peak_per_host().get("a.test"), Some(&1));
}
