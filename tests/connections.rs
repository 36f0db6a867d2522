//! Connection hygiene (issue 11, items 9 and 10): memory returns to its
//! baseline once connections close (the CI-sized soak; the long one is
//! `SLUICE_SOAK_CONNECTIONS=100000`), `server.max_connections` holds new
//! clients back instead of failing, and heads with bare LF line ends or a
//! wrong number of Host headers are refused with 400.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{Cluster, Sluice, cluster_config, metric};

/// Short connections in the CI-sized soak (each: connect, GET /health, close).
const SOAK_CONNECTIONS: usize = 30_000;
/// RSS growth allowed over the soak. The leak this guards against kept about
/// 20 KiB per connection: 30,000 connections would have added ~600 MiB.
const SOAK_MAX_GROWTH_KIB: u64 = 24 * 1024;

/// One request on its own connection, closed after the answer.
fn health_once(addr: SocketAddr, close: bool) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let conn = if close { "connection: close\r\n" } else { "" };
    s.write_all(format!("GET /health HTTP/1.1\r\nhost: x\r\n{conn}\r\n").as_bytes()).unwrap();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap_or(0);
    std::str::from_utf8(&buf[..n.min(12)])
        .ok()
        .and_then(|h| h.get(9..12))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// `n` short connections from 4 threads; half close first (client side), half
/// ask sluice to close.
fn churn(addr: SocketAddr, n: usize) {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..n / 4 {
                    assert_eq!(health_once(addr, (i + t) % 2 == 0), 200);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn memory_returns_to_baseline_after_many_short_connections() {
    let n: usize = std::env::var("SLUICE_SOAK_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SOAK_CONNECTIONS);
    for driver in common::drivers() {
        let c = Cluster::start(driver);
        let addr = c.sluice.addr;
        // Warm up: pools, caches and the allocator's arenas reach their size.
        churn(addr, 4_000);
        std::thread::sleep(Duration::from_millis(300));
        let base = c.sluice.status_kib("VmRSS");
        let started = Instant::now();
        let mut curve = Vec::new();
        for round in 0..10 {
            churn(addr, n / 10);
            // Keep-alive traffic in between: 200 requests on one connection.
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            for _ in 0..200 {
                s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
                let mut buf = [0u8; 256];
                assert!(s.read(&mut buf).unwrap() > 0);
            }
            drop(s);
            std::thread::sleep(Duration::from_millis(100));
            let rss = c.sluice.status_kib("VmRSS");
            curve.push((round, rss, started.elapsed().as_secs_f64()));
        }
        eprintln!("soak [{driver}] {n} connections: base {base} KiB, (round, RSS KiB, s): {curve:?}");
        let last = curve.last().unwrap().1;
        assert!(
            last <= base + SOAK_MAX_GROWTH_KIB,
            "[{driver}] RSS grew from {base} KiB to {last} KiB over {n} connections: {curve:?}"
        );
        // Every connection is accounted for once closed (a closing one may
        // linger up to 2 s): only the scrape's own connection stays.
        let deadline = Instant::now() + Duration::from_secs(10);
        while metric(addr, "sluice_connections") != Some(1.0) {
            assert!(
                Instant::now() < deadline,
                "connections left open: {:?}",
                metric(addr, "sluice_connections")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// With `max_connections = 2` on one worker, a third client waits in the
/// backlog (no answer, no error) until one of the two closes, then is served.
#[test]
fn max_connections_holds_new_clients_back() {
    let dir = tempfile::tempdir().unwrap();
    let backends = vec![common::S3sFs::start("eu1", "eu-west", &dir.path().join("eu1"))];
    let config = cluster_config(&backends, "", "")
        .replace("workers = 2\n", "workers = 1\nmax_connections = 2\n")
        .replace("residency = [\"eu-west\", \"eu-central\"]\nreplicas = 2", "replicas = 1");
    let sluice = Sluice::start(&config, dir.path(), common::any_driver());
    let addr = sluice.addr;
    let open = |addr| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
        s
    };
    let answered = |s: &mut TcpStream| {
        let mut buf = [0u8; 256];
        matches!(s.read(&mut buf), Ok(n) if n > 0 && buf.starts_with(b"HTTP/1.1 200"))
    };
    let mut a = open(addr);
    assert!(answered(&mut a));
    let mut b = open(addr);
    assert!(answered(&mut b));
    let mut third = open(addr);
    // Not answered within a second (it is answered within milliseconds once
    // admitted, as the two before it were).
    third.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    assert!(!answered(&mut third), "a third connection was served past max_connections = 2");
    drop(a);
    third.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(answered(&mut third), "the waiting client is served once a connection closes");
    drop(b);
    // It keeps serving; the wait was counted.
    third.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    let _ = third.read_to_string(&mut text);
    let paused = text
        .lines()
        .find_map(|l| l.strip_prefix("sluice_accept_paused_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(paused >= 1.0, "{text}");
}

/// Heads with bare LF line ends, no Host on HTTP/1.1, or two Host headers
/// are `400 Bad Request`, and the connection closes.
#[test]
fn bare_lf_and_host_header_count_are_refused() {
    let c = Cluster::start(common::any_driver());
    for (what, req) in [
        ("bare LF", &b"GET /health HTTP/1.1\nhost: x\n\n"[..]),
        ("bare LF in one line", b"GET /health HTTP/1.1\r\nhost: x\nx-a: b\r\n\r\n"),
        ("no Host", b"GET /health HTTP/1.1\r\n\r\n"),
        ("two Hosts", b"GET /health HTTP/1.1\r\nhost: x\r\nHost: y\r\n\r\n"),
    ] {
        let (out, closed) = common::raw_exchange(c.sluice.addr, req, Duration::from_secs(5));
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 400"), "{what}: {text}");
        assert!(closed, "{what}: connection left open");
    }
    // HTTP/1.0 without Host is fine.
    let (out, _) =
        common::raw_exchange(c.sluice.addr, b"GET /health HTTP/1.0\r\n\r\n", Duration::from_secs(5));
    assert!(out.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&out));
}
