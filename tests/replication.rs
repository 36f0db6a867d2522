//! The replication engine end to end: real s3s-fs backends, the real sluice
//! binary, boto3 clients. Every check reads the backends' disks directly and
//! compares with placement.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::{Cluster, RawReq, metric, verify_replicas};

/// Buckets beyond the harness's `logs` (2 replicas, eu) and `any` (1).
const BUCKETS: &str = "[[bucket]]\ntenant = \"acme\"\nname = \"triple\"\nreplicas = 3\n\n\
                       [[bucket]]\ntenant = \"acme\"\nname = \"pair\"\nreplicas = 2\n\n";

/// Small multipart copies (so tests exercise them with small objects), quick
/// retries and health checks; `replication` adds lines to `[replication]`.
fn config_with(replication: &str, extra: &str) -> String {
    format!(
        "[replication]\nmultipart_threshold_mb = 5\npart_size_mb = 5\nbackoff_base_ms = 50\nbackoff_max_ms = 500\n\
         {replication}\n[health]\ninterval_ms = 200\nfailures_to_mark_down = 2\n\n{BUCKETS}{extra}"
    )
}

fn config(extra: &str) -> String {
    config_with("", extra)
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Polls until `f` holds, or panics with `what` after `timeout`.
fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn writes_and_deletes_converge_to_placement() {
    let c = Cluster::start_with(common::any_driver(), &config(""));
    let expected = c.dir.path().join("expected.tsv");
    c.run_python("convergence.py", &[expected.to_str().unwrap(), "5"]);
    let v = verify_replicas(&c, &read(&expected));
    eprintln!("convergence: {v:?}");
    assert!(v.objects >= 4 * 25 && v.deleted >= 4 * 10 && v.copies > v.objects, "{v:?}");
    let addr = c.sluice.addr;
    assert_eq!(metric(addr, "sluice_replication_dead_tasks"), Some(0.0));
}

/// kill -9 in the middle of 2,000 concurrent PUTs; after a restart every PUT
/// that was answered 200 is on all its replicas with the acknowledged bytes.
#[test]
fn acknowledged_writes_survive_a_crash() {
    for driver in common::drivers() {
        let mut c = Cluster::start_with(driver, &config(""));
        let acks = c.dir.path().join("acks.tsv");
        std::fs::write(&acks, "").unwrap();
        let env = c.env();
        let acks_arg = acks.to_str().unwrap().to_string();
        let load = std::thread::spawn(move || {
            common::run_python("crash_load.py", &[&acks_arg, "2000", "32", "3"], &env)
        });
        // Kill once a good share is acknowledged, with plenty still in flight.
        wait_until("600 acknowledged PUTs", Duration::from_secs(600), || read(&acks).lines().count() >= 600);
        c.kill_sluice();
        let summary = load.join().expect("load finished");
        let acked = read(&acks);
        c.restart_sluice(driver, "", &config(""));
        c.wait_replicated(Duration::from_secs(600));
        let v = common::verify_acknowledged(&c, &acked);
        let line = summary.lines().find(|l| l.contains("acknowledged")).unwrap_or_default().to_string();
        eprintln!("crash [{driver}]: {line}; verified {} objects, {} replica copies", v.objects, v.copies);
        assert_eq!(v.objects, acked.lines().count(), "every acknowledged PUT verified");
        assert!((600..2000).contains(&v.objects), "the kill happened mid-load: {}", v.objects);
    }
}

/// One backend stops during a load of writes and reads: writes go on through
/// handoff, reads fail over, tasks for the stopped backend wait without
/// spending attempts and converge by themselves once it is back. A task that
/// fails on a healthy backend becomes a dead letter; `sluice requeue` brings
/// it back once the cause is gone.
#[test]
fn outage_handoff_failover_waiting_convergence_and_dead_letters() {
    let mut c = Cluster::start_with(common::any_driver(), &config_with("max_attempts = 3\n", ""));
    let expected = c.dir.path().join("expected.tsv");
    let exp = expected.to_str().unwrap().to_string();
    c.run_python("outage.py", &["preload", &exp]);
    let addr = c.sluice.addr;
    // The load runs; eu1 stops once 40 writes are in.
    let env = c.env();
    let load = std::thread::spawn(move || common::run_python("outage.py", &["load", &exp], &env));
    wait_until("40 writes", Duration::from_secs(60), || read(&expected).matches("\tout/").count() >= 40);
    let down = 0; // eu1
    c.backends[down].stop();
    wait_until("eu1 marked down", Duration::from_secs(10), || {
        metric(addr, "sluice_backend_up{backend=\"eu1\"}") == Some(0.0)
    });
    let summary = load.join().expect("the load finished without client errors");
    eprintln!("{}", summary.trim());
    // Tasks targeting eu1 wait while it is down: no attempt is spent, so
    // nothing dead-letters however long it lasts (3 attempts of 50-500 ms
    // backoff would be spent within seconds).
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(metric(addr, "sluice_replication_dead_tasks"), Some(0.0));
    assert!(metric(addr, "sluice_replication_pending_tasks").is_some_and(|n| n > 0.0));
    c.backends[down].restart();
    // No operator: the parked tasks run once eu1 is back.
    c.wait_replicated(Duration::from_secs(120));
    assert_eq!(metric(addr, "sluice_replication_dead_tasks"), Some(0.0));
    let v = verify_replicas(&c, &read(&expected));
    eprintln!("outage: converged without an operator; {v:?}");
    assert_eq!(v.objects, 40 + 340);

    // Dead letters are for errors that persist on a healthy target: a
    // directory where the replica's file must go makes s3s-fs answer 500.
    let key = (0..100)
        .map(|i| format!("blocked/{i}"))
        .find(|k| c.placement_order("pair", k)[1] == 1)
        .expect("a key with eu2 as its second replica");
    let phys = common::physical("acme", "pair");
    let blocker = c.backends[1].root.join(&phys).join(&key);
    std::fs::create_dir_all(&blocker).unwrap();
    std::fs::write(blocker.join("x"), b"in the way").unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let body = b"blocked object";
    s.write_all(&common::signed_request(
        addr,
        &c.acme,
        &RawReq { body, ..RawReq::new("PUT", &format!("/pair/{key}")) },
    ))
    .unwrap();
    s.write_all(body).unwrap();
    assert_eq!(common::read_response(&mut s).0, 200);
    wait_until("a dead letter", Duration::from_secs(60), || {
        metric(addr, "sluice_replication_dead_tasks") == Some(1.0)
    });
    let dead = c.sluice_cmd(&["dead-letters"]);
    assert!(dead.contains(&format!("pair/{key}")), "{dead}");
    assert_eq!(metric(addr, "sluice_backend_up{backend=\"eu2\"}"), Some(1.0), "eu2 stays up");
    std::fs::remove_dir_all(&blocker).unwrap();
    let requeued = c.sluice_cmd(&["requeue"]);
    assert!(requeued.contains("requeued 1 task(s)"), "{requeued}");
    c.wait_replicated(Duration::from_secs(120));
    assert_eq!(metric(addr, "sluice_replication_dead_tasks"), Some(0.0));
    let held = c.backends[1].read_object(&phys, &key);
    assert_eq!(held.as_deref(), Some(&body[..]));
}

/// The backend serving a GET dies after 1 MiB of the body: the rest comes from
/// the other replica, so the client reads every byte, whole or ranged, on one
/// uninterrupted response.
#[test]
fn a_read_cut_mid_body_continues_from_a_replica() {
    const SIZE: usize = 64 << 20;
    let mut c = Cluster::start_with(common::any_driver(), &config(""));
    let key = "cut/object";
    c.run_python("put_object.py", &["pair", key, &SIZE.to_string()]);
    c.wait_replicated(Duration::from_secs(120));
    let order = c.placement_order("pair", key);
    let whole = c.backends[order[1]].read_object(&common::physical("acme", "pair"), key).expect("replica");
    assert_eq!(whole.len(), SIZE);
    let addr = c.sluice.addr;
    let from = 1000usize;
    for range in [None, Some(format!("bytes={from}-{}", SIZE - 5))] {
        let headers: Vec<(&str, &str)> = range.iter().map(|r| ("range", r.as_str())).collect();
        let req = RawReq { headers: &headers, ..RawReq::new("GET", "/pair/cut/object") };
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s.write_all(&common::signed_request(addr, &c.acme, &req)).unwrap();
        let (status, len) = read_head(&mut s);
        let expected = if range.is_some() { &whole[from..SIZE - 4] } else { &whole[..] };
        assert_eq!((status, len), (if range.is_some() { 206 } else { 200 }, expected.len()));
        let mut body = vec![0u8; 1 << 20];
        s.read_exact(&mut body).unwrap();
        c.backends[order[0]].stop();
        let mut rest = vec![0u8; len - body.len()];
        s.read_exact(&mut rest).expect("the body continues past the cut");
        body.extend_from_slice(&rest);
        assert!(body == expected, "the bytes are the object's");
        c.backends[order[0]].restart();
        wait_until("primary up again", Duration::from_secs(10), || {
            metric(addr, &format!("sluice_backend_up{{backend=\"{}\"}}", c.backends[order[0]].id))
                == Some(1.0)
        });
    }
}

/// Reads a response head; returns the status and Content-Length.
fn read_head(s: &mut std::net::TcpStream) -> (u16, usize) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head[9..12].parse().unwrap();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
        })
        .unwrap();
    (status, len)
}

/// kill -9 during the multipart replication copy of a 300 MiB object: after
/// the restart the copy resumes from the parts already done.
#[test]
fn multipart_replication_resumes_after_a_crash() {
    const SIZE: u64 = 300 << 20;
    const PART: u64 = 5 << 20;
    let driver = common::any_driver();
    let mut c = Cluster::start_with(driver, &config(""));
    let out = c.run_python("put_object.py", &["logs", "big/object", &SIZE.to_string()]);
    let digest = out.lines().find_map(|l| l.strip_prefix("sha256 ")).unwrap().to_string();
    // Watch the task's copy progress in LMDB and kill sluice mid-copy.
    let mut parts_before = 0;
    wait_until("10 parts copied", Duration::from_secs(300), || {
        let store = common::open_store(&c.sluice.data_dir);
        let tasks = store.tasks().all_pending().unwrap();
        parts_before = tasks.iter().filter_map(|t| t.copy.as_ref()).map(|p| p.parts.len()).max().unwrap_or(0);
        parts_before >= 10
    });
    c.kill_sluice();
    // How far it really got: the task as it was at the kill.
    let store = common::open_store(&c.sluice.data_dir);
    let task = store
        .tasks()
        .all_pending()
        .unwrap()
        .into_iter()
        .find(|t| t.key == "big/object")
        .expect("task pending");
    let done_parts = task.copy.as_ref().map_or(0, |p| p.parts.len()) as u64;
    drop(store);
    assert!((10..SIZE / PART).contains(&done_parts), "{done_parts} parts done at the kill");
    c.restart_sluice(driver, "", &config(""));
    c.wait_replicated(Duration::from_secs(300));
    let copied_after = metric(c.sluice.addr, "sluice_replication_bytes_total").unwrap() as u64;
    let remaining = SIZE - done_parts * PART;
    eprintln!(
        "resume: {done_parts} of {} parts done before the kill; {copied_after} bytes copied after the restart \
         (the rest is {remaining})",
        SIZE.div_ceil(PART)
    );
    assert_eq!(copied_after, remaining, "only the missing parts were copied after the restart");
    let v = verify_replicas(&c, &format!("logs\tbig/object\t{digest}\n"));
    assert_eq!((v.objects, v.copies), (1, 2));
}

/// A fourth backend and a bucket going from 2 to 3 replicas: after a restart
/// with the new config, `sluice repair` queues the moves and copies and
/// everything converges, with no copy left outside its replica set.
#[test]
fn repair_converges_after_a_new_backend_and_more_replicas() {
    let driver = common::any_driver();
    let grow = "[[bucket]]\ntenant = \"acme\"\nname = \"grow\"\nreplicas = 2\n\n";
    let mut c = Cluster::start_with(driver, &config(grow));
    let expected = c.dir.path().join("expected.tsv");
    c.run_python("repair_load.py", &[expected.to_str().unwrap()]);
    let before = verify_replicas(&c, &read(&expected));
    c.add_backend("ap1", "ap-south");
    c.restart_sluice(driver, "", &config(&grow.replace("replicas = 2", "replicas = 3")));
    // Discovery sees the work to do before repair.
    let report = c.sluice_cmd(&["discover", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&report).unwrap();
    let by_name = |n: &str| json.as_array().unwrap().iter().find(|b| b["bucket"] == n).unwrap().clone();
    assert!(by_name("grow")["under_replicated"].as_u64().unwrap() > 0, "{report}");
    assert!(by_name("pair")["misplaced"].as_u64().unwrap() > 0, "{report}");
    let repaired = c.sluice_cmd(&["repair"]);
    assert!(repaired.contains("tasks queued"), "{repaired}");
    c.wait_replicated(Duration::from_secs(300));
    let after = verify_replicas(&c, &read(&expected));
    eprintln!("repair: before {before:?}, after {after:?}\n{repaired}");
    assert!(after.copies > before.copies, "grow went to 3 replicas");
    let again = c.sluice_cmd(&["discover", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&again).unwrap();
    for b in json.as_array().unwrap() {
        assert_eq!((b["under_replicated"].as_u64(), b["misplaced"].as_u64()), (Some(0), Some(0)), "{again}");
    }
}
