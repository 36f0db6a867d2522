//! HTTP/1.1 behaviour on the wire: keep-alive, pipelining, `Expect:
//! 100-continue`, chunked bodies, timeouts and graceful shutdown, with raw
//! sockets against the real binary.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Cluster, RawReq, read_head_response, read_response, signed_request};

fn connect(c: &Cluster) -> TcpStream {
    let s = TcpStream::connect(c.sluice.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

#[test]
fn keep_alive_and_pipelining() {
    for d in common::drivers() {
        let c = Cluster::start(d);
        let mut s = connect(&c);
        let put = signed_request(
            c.sluice.addr,
            &c.acme,
            &RawReq { body: b"pipelined!", ..RawReq::new("PUT", "/any/pipe") },
        );
        s.write_all(&[put.as_slice(), b"pipelined!"].concat()).unwrap();
        assert_eq!(read_response(&mut s).0, 200);
        // Two requests in one write: both answered, in order, on one connection.
        let get = signed_request(c.sluice.addr, &c.acme, &RawReq::new("GET", "/any/pipe"));
        let head = signed_request(c.sluice.addr, &c.acme, &RawReq::new("HEAD", "/any/pipe"));
        s.write_all(&[get.as_slice(), head.as_slice()].concat()).unwrap();
        let (status, _, body) = read_response(&mut s);
        assert_eq!((status, body.as_slice()), (200, &b"pipelined!"[..]));
        let (status, head_text) = read_head_response(&mut s);
        assert_eq!(status, 200);
        assert!(head_text.to_ascii_lowercase().contains("content-length: 10"), "{head_text}");
        // And the connection is still usable.
        s.write_all(&get).unwrap();
        assert_eq!(read_response(&mut s).2, b"pipelined!");
    }
}

#[test]
fn expect_100_continue() {
    for d in common::drivers() {
        let c = Cluster::start(d);
        let body = vec![b'z'; 300_000];
        let mut s = connect(&c);
        let req = signed_request(
            c.sluice.addr,
            &c.acme,
            &RawReq {
                headers: &[("expect", "100-continue")],
                body: &body,
                ..RawReq::new("PUT", "/any/expect")
            },
        );
        s.write_all(&req).unwrap();
        let (status, _, _) = read_response(&mut s);
        assert_eq!(status, 100, "the body is sent only after 100 Continue");
        s.write_all(&body).unwrap();
        assert_eq!(read_response(&mut s).0, 200);

        // An empty body still gets 100 Continue before the final answer
        // (botocore misreads the next response on the connection otherwise),
        // and the connection stays usable.
        let req = signed_request(
            c.sluice.addr,
            &c.acme,
            &RawReq { headers: &[("expect", "100-continue")], ..RawReq::new("PUT", "/any/expect-empty") },
        );
        s.write_all(&req).unwrap();
        assert_eq!(read_response(&mut s).0, 100);
        assert_eq!(read_response(&mut s).0, 200);
        let get = signed_request(c.sluice.addr, &c.acme, &RawReq::new("GET", "/any/expect-empty"));
        s.write_all(&get).unwrap();
        let (status, _, got) = read_response(&mut s);
        assert_eq!((status, got.len()), (200, 0));

        // A refused request gets its final answer instead of 100 Continue.
        let mut bad = c.acme.secret_key.clone();
        bad.push('x');
        let wrong = common::Creds { access_key: c.acme.access_key.clone(), secret_key: bad };
        let mut s = connect(&c);
        let req = signed_request(
            c.sluice.addr,
            &wrong,
            &RawReq {
                headers: &[("expect", "100-continue")],
                body: &body,
                ..RawReq::new("PUT", "/any/expect2")
            },
        );
        s.write_all(&req).unwrap();
        let (status, _, body) = read_response(&mut s);
        assert_eq!(status, 403);
        assert!(String::from_utf8_lossy(&body).contains("SignatureDoesNotMatch"));
    }
}

#[test]
fn chunked_bodies() {
    for d in common::drivers() {
        let c = Cluster::start(d);
        // PutObject needs a length, as in AWS.
        let mut s = connect(&c);
        let req = signed_request(
            c.sluice.addr,
            &c.acme,
            &RawReq {
                headers: &[("transfer-encoding", "chunked")],
                payload_hash: Some("UNSIGNED-PAYLOAD"),
                ..RawReq::new("PUT", "/any/chunky")
            },
        );
        s.write_all(&req).unwrap();
        s.write_all(b"5\r\nhello\r\n0\r\n\r\n").unwrap();
        let (status, _, body) = read_response(&mut s);
        assert_eq!(status, 411, "{}", String::from_utf8_lossy(&body));
        assert!(String::from_utf8_lossy(&body).contains("MissingContentLength"));

        // A chunked CreateBucket body is decoded (and checked against its signed sha256).
        let xml = b"<CreateBucketConfiguration><LocationConstraint>eu-west</LocationConstraint></CreateBucketConfiguration>";
        let mut s = connect(&c);
        let req = signed_request(
            c.sluice.addr,
            &c.acme,
            &RawReq {
                headers: &[("transfer-encoding", "chunked")],
                body: xml,
                ..RawReq::new("PUT", "/chunked-bucket")
            },
        );
        s.write_all(&req).unwrap();
        let (a, b) = xml.split_at(40);
        s.write_all(format!("{:x};ext=1\r\n", a.len()).as_bytes()).unwrap();
        s.write_all(a).unwrap();
        s.write_all(format!("\r\n{:X}\r\n", b.len()).as_bytes()).unwrap();
        s.write_all(b).unwrap();
        s.write_all(b"\r\n0\r\nTrailer: x\r\n\r\n").unwrap();
        let (status, _, body) = read_response(&mut s);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let loc = signed_request(
            c.sluice.addr,
            &c.acme,
            &RawReq { query: "location", ..RawReq::new("GET", "/chunked-bucket") },
        );
        s.write_all(&loc).unwrap();
        let (status, _, body) = read_response(&mut s);
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&body).contains(">eu-west<"));

        // Malformed chunk framing is a 400.
        let mut s = connect(&c);
        let req = signed_request(
            c.sluice.addr,
            &c.acme,
            &RawReq {
                headers: &[("transfer-encoding", "chunked")],
                payload_hash: Some("UNSIGNED-PAYLOAD"),
                ..RawReq::new("PUT", "/bad-chunks")
            },
        );
        s.write_all(&req).unwrap();
        s.write_all(b"zz\r\nhello\r\n").unwrap();
        let (status, _, body) = read_response(&mut s);
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    }
}

#[test]
fn head_and_idle_timeouts() {
    let c = Cluster::start_opts(common::any_driver(), "head_timeout_secs = 1\nidle_timeout_secs = 1\n", "");
    // A head that never completes: 400 RequestTimeout, then close.
    let mut s = connect(&c);
    s.write_all(b"GET /any/x HTTP/1.1\r\nHost: x\r\n").unwrap();
    let start = Instant::now();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("<Code>RequestTimeout</Code>"), "{text}");
    assert!(start.elapsed() < Duration::from_secs(5));
    // An idle keep-alive connection is closed quietly.
    let mut s = connect(&c);
    let start = Instant::now();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(out.is_empty());
    assert!(start.elapsed() >= Duration::from_millis(900) && start.elapsed() < Duration::from_secs(5));
}

#[test]
fn sigterm_finishes_in_flight_requests() {
    for d in common::drivers() {
        let mut c = Cluster::start(d);
        let body = vec![b'q'; 2 * 1024 * 1024];
        let mut s = connect(&c);
        let req = signed_request(
            c.sluice.addr,
            &c.acme,
            &RawReq { body: &body, ..RawReq::new("PUT", "/any/inflight") },
        );
        s.write_all(&req).unwrap();
        s.write_all(&body[..1024 * 1024]).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        // SIGTERM while the upload is half-way.
        let pid = c.sluice.pid();
        std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        // New connections are refused once the listeners are closed.
        assert!(TcpStream::connect(c.sluice.addr).is_err(), "listener must be closed");
        s.write_all(&body[1024 * 1024..]).unwrap();
        let (status, head, _) = read_response(&mut s);
        assert_eq!(status, 200, "the in-flight PUT completes");
        assert!(head.contains("Connection: close"), "{head}");
        let status = c.sluice.terminate_wait();
        assert!(status.success(), "clean exit: {status}");
        let stored = c.backends.iter().any(|b| b.has_object(&common::physical("acme", "any"), "inflight"));
        assert!(stored);
    }
}
