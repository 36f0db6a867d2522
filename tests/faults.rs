//! Replicated buckets under faults (issue 11): read-your-deletes, listings
//! and writes through an outage, per-object errors that must not take a
//! backend down, writes to a primary that died unnoticed, and replication
//! that waits out an outage and converges by itself. Real s3s-fs backends,
//! stopped and restarted; every check reads what a client sees and what the
//! backends hold on disk.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Cluster, RawReq, metric, physical, read_response, signed_request, verify_replicas};

/// Buckets beyond the harness's `logs` (2 replicas, eu) and `any` (1):
/// `triple` over all three backends, `pair` (2 of 3).
const BUCKETS: &str = "[[bucket]]\ntenant = \"acme\"\nname = \"triple\"\nreplicas = 3\n\n\
                       [[bucket]]\ntenant = \"acme\"\nname = \"pair\"\nreplicas = 2\n\n";

/// Quick retries and health checks; few attempts, so that spending one per
/// retry while a backend is down would dead-letter tasks within seconds.
fn config(health_ms: u64) -> String {
    format!(
        "[replication]\nbackoff_base_ms = 50\nbackoff_max_ms = 1000\nmax_attempts = 3\n\n\
         [health]\ninterval_ms = {health_ms}\nfailures_to_mark_down = 2\n\n{BUCKETS}"
    )
}

/// One signed request on a new connection: (status, body).
fn s3(c: &Cluster, method: &str, path: &str, query: &str, body: &[u8]) -> (u16, String) {
    s3_with(c, method, path, query, &[], body)
}

fn s3_with(
    c: &Cluster,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let addr = c.sluice.addr;
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(&signed_request(
        addr,
        &c.acme,
        &RawReq { query, headers, body, ..RawReq::new(method, path) },
    ))
    .unwrap();
    s.write_all(body).unwrap();
    if method == "HEAD" {
        return (common::read_head_response(&mut s).0, String::new());
    }
    let (status, _, out) = read_response(&mut s);
    (status, String::from_utf8_lossy(&out).into_owned())
}

/// Every key of a ListObjectsV2 listing of `bucket` (all pages).
fn list_keys(c: &Cluster, bucket: &str) -> Result<Vec<String>, (u16, String)> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let query = match &token {
            Some(t) => format!("continuation-token={}&list-type=2&max-keys=7", encode(t)),
            None => "list-type=2&max-keys=7".to_string(),
        };
        let (st, body) = s3(c, "GET", &format!("/{bucket}"), &query, b"");
        if st != 200 {
            return Err((st, body));
        }
        keys.extend(tags(&body, "Key"));
        token = tags(&body, "NextContinuationToken").into_iter().next();
        if token.is_none() {
            return Ok(keys);
        }
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The texts of every `<tag>` element.
fn tags(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open).skip(1).filter_map(|p| p.split_once(&close).map(|(v, _)| v.to_string())).collect()
}

/// DeleteObjects of `keys` in `bucket` (Content-MD5 as AWS requires).
fn delete_objects(c: &Cluster, bucket: &str, keys: &[String]) -> String {
    use base64::Engine;
    use md5::Digest;
    let mut xml = String::from("<Delete><Quiet>true</Quiet>");
    for k in keys {
        xml.push_str(&format!("<Object><Key>{k}</Key></Object>"));
    }
    xml.push_str("</Delete>");
    let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(xml.as_bytes()));
    let (st, body) =
        s3_with(c, "POST", &format!("/{bucket}"), "delete", &[("content-md5", &md5)], xml.as_bytes());
    assert_eq!(st, 200, "{body}");
    body
}

/// Calls the backend's own S3 API with its own credentials (boto3): what a
/// process other than sluice, or a dead sluice's last write, did there.
/// `op` is `put_object` (with `body`) or `delete_object`.
fn on_backend(b: &common::S3sFs, op: &str, bucket: &str, key: &str, body: &[u8]) {
    let body_arg = if op == "put_object" {
        format!(", Body=bytes.fromhex('{}')", hex::encode(body))
    } else {
        String::new()
    };
    let script = format!(
        "import boto3\ns3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='{}', \
         aws_secret_access_key='{}', region_name='us-east-1')\n\
         s3.{op}(Bucket='{bucket}', Key='{key}'{body_arg})\n",
        b.endpoint(),
        b.access_key,
        b.secret_key
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn sha_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// Polls until `f` holds, or panics with `what` after `timeout`.
fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn backend_up(c: &Cluster, id: &str) -> Option<f64> {
    metric(c.sluice.addr, &format!("sluice_backend_up{{backend=\"{id}\"}}"))
}

fn put_keys(c: &Cluster, bucket: &str, keys: &[String]) {
    for k in keys {
        let (st, body) = s3(c, "PUT", &format!("/{bucket}/{k}"), "", k.as_bytes());
        assert_eq!(st, 200, "PUT {bucket}/{k}: {body}");
    }
}

/// Once a delete is acknowledged on a 2- or 3-replica bucket, no listing,
/// HEAD, GET, copy or DeleteBucket sees the key on any replica, also right
/// after a backend that missed the delete comes back.
#[test]
fn deletes_are_read_your_deletes_on_replicated_buckets() {
    let mut c = Cluster::start_with(common::any_driver(), &config(200));
    for bucket in ["pair", "triple"] {
        let keys: Vec<String> = (0..24).map(|i| format!("dir/k{i:02}")).collect();
        put_keys(&c, bucket, &keys);
        c.wait_replicated(Duration::from_secs(60));
        // Half one by one, half in one DeleteObjects; list at once after each.
        for k in &keys[..12] {
            assert_eq!(s3(&c, "DELETE", &format!("/{bucket}/{k}"), "", b"").0, 204);
            let listed = list_keys(&c, bucket).unwrap();
            assert!(!listed.contains(k), "{bucket}: {k} listed right after its delete: {listed:?}");
        }
        delete_objects(&c, bucket, &keys[12..]);
        assert_eq!(list_keys(&c, bucket).unwrap(), Vec::<String>::new(), "{bucket}");
        for k in &keys {
            assert_eq!(s3(&c, "HEAD", &format!("/{bucket}/{k}"), "", b"").0, 404, "{bucket}/{k}");
            assert_eq!(s3(&c, "GET", &format!("/{bucket}/{k}"), "", b"").0, 404, "{bucket}/{k}");
            let src = format!("/{bucket}/{k}");
            let (st, _) =
                s3_with(&c, "PUT", &format!("/{bucket}/copy"), "", &[("x-amz-copy-source", &src)], b"");
            assert_eq!(st, 404, "copy from deleted {bucket}/{k}");
        }
        // Nothing is left on any backend's disk: the deletes were applied everywhere.
        for b in &c.backends {
            assert_eq!(b.keys(&physical("acme", bucket)), Vec::<String>::new(), "{} {bucket}", b.id);
        }
    }
    // A backend misses deletes while it is down; back up, its stale copies
    // are never listed, and the emptied bucket can be deleted at once.
    let keys: Vec<String> = (0..10).map(|i| format!("stale{i}")).collect();
    put_keys(&c, "triple", &keys);
    c.wait_replicated(Duration::from_secs(60));
    c.backends[2].stop();
    wait_until("us1 marked down", Duration::from_secs(20), || backend_up(&c, "us1") == Some(0.0));
    delete_objects(&c, "triple", &keys);
    assert_eq!(list_keys(&c, "triple").unwrap(), Vec::<String>::new());
    let phys = physical("acme", "triple");
    assert_eq!(c.backends[2].keys(&phys).len(), 10, "the down backend still holds its copies");
    c.backends[2].restart();
    wait_until("us1 marked up", Duration::from_secs(20), || backend_up(&c, "us1") == Some(1.0));
    assert_eq!(list_keys(&c, "triple").unwrap(), Vec::<String>::new(), "stale copies listed");
    for k in &keys {
        assert_eq!(s3(&c, "HEAD", &format!("/triple/{k}"), "", b"").0, 404, "{k}");
    }
    let (st, body) = s3(&c, "DELETE", "/triple", "", b"");
    assert_eq!(st, 204, "DeleteBucket of an emptied bucket: {body}");
    c.wait_replicated(Duration::from_secs(60));
    for b in &c.backends {
        assert!(!b.root.join(&phys).exists() || b.keys(&phys).is_empty(), "{}: resurrected", b.id);
    }
    assert_eq!(metric(c.sluice.addr, "sluice_replication_dead_tasks"), Some(0.0));
}

/// While one of three backends is down: listings of replicated buckets are
/// complete, a 3-replica bucket takes writes, a 1-replica bucket on that
/// backend says clearly that its listing cannot be complete. Replication
/// waits without spending attempts (3 would dead-letter within seconds) and
/// every object converges once the backend is back, with no operator.
#[test]
fn listing_and_writes_go_on_through_an_outage() {
    let mut c = Cluster::start_with(common::any_driver(), &config(200));
    let before: Vec<String> = (0..30).map(|i| format!("before/{i:02}")).collect();
    put_keys(&c, "triple", &before);
    put_keys(&c, "pair", &before);
    c.wait_replicated(Duration::from_secs(60));
    // Any objects of `any` on us1, for its listing to need us1.
    put_keys(&c, "any", &before);

    c.backends[2].stop();
    wait_until("us1 marked down", Duration::from_secs(20), || backend_up(&c, "us1") == Some(0.0));
    for bucket in ["triple", "pair"] {
        assert_eq!(list_keys(&c, bucket).unwrap(), before, "{bucket} listed during the outage");
    }
    let (st, body) = list_keys(&c, "any").unwrap_err();
    assert_eq!(st, 503, "{body}");
    assert!(body.contains("<Code>ServiceUnavailable</Code>"), "{body}");
    // Writes go on; reads of them too.
    let during: Vec<String> = (0..30).map(|i| format!("during/{i:02}")).collect();
    put_keys(&c, "triple", &during);
    put_keys(&c, "pair", &during);
    for k in &during {
        let (st, body) = s3(&c, "GET", &format!("/triple/{k}"), "", b"");
        assert_eq!((st, body.as_str()), (200, k.as_str()));
    }
    let mut all = before.clone();
    all.extend(during.iter().cloned());
    assert_eq!(list_keys(&c, "triple").unwrap(), all);
    // Longer than 3 attempts' backoff (50 ms .. 1 s): the old code dead-lettered here.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(metric(c.sluice.addr, "sluice_replication_dead_tasks"), Some(0.0));

    c.backends[2].restart();
    c.wait_replicated(Duration::from_secs(120));
    let mut expected = String::new();
    for bucket in ["triple", "pair"] {
        for k in &all {
            use sha2::Digest;
            let digest: String =
                sha2::Sha256::digest(k.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            expected.push_str(&format!("{bucket}\t{k}\t{digest}\n"));
        }
    }
    let v = verify_replicas(&c, &expected);
    assert_eq!(v.objects, 120, "{v:?}");
    assert_eq!(v.copies, 60 * 3 + 60 * 2, "{v:?}");
    assert_eq!(metric(c.sluice.addr, "sluice_replication_dead_tasks"), Some(0.0));
    assert_eq!(list_keys(&c, "any").unwrap(), before);
}

/// Keys the backend answers 500 for are that object's problem: the client
/// gets the error, the backend stays up, other tenants' writes go on.
#[test]
fn per_object_errors_do_not_mark_a_backend_down() {
    let c = Cluster::start_with(common::any_driver(), &config(60_000));
    // s3s-fs cannot store `clash` once `clash/f` exists (a file where a
    // directory is): `logs` keeps both keys on eu1 and eu2.
    assert_eq!(s3(&c, "PUT", "/logs/clash/f", "", b"f").0, 200);
    c.wait_replicated(Duration::from_secs(60));
    for _ in 0..10 {
        let (st, body) = s3(&c, "PUT", "/logs/clash", "", b"x");
        assert_eq!(st, 500, "{body}");
        assert!(body.contains("<Code>InternalError</Code>"), "{body}");
    }
    for b in &c.backends {
        assert_eq!(backend_up(&c, &b.id), Some(1.0), "{} marked down by one key's errors", b.id);
    }
    // Every backend still takes writes, for this tenant and another.
    let keys: Vec<String> = (0..30).map(|i| format!("after/{i}")).collect();
    put_keys(&c, "logs", &keys);
    put_keys(&c, "any", &keys);
    for k in &keys {
        assert_eq!(s3(&c, "GET", &format!("/logs/{k}"), "", b"").1, *k);
    }
    // The failed key is no object: not listed, not readable.
    assert!(!list_keys(&c, "logs").unwrap().contains(&"clash".to_string()));
    assert_ne!(s3(&c, "HEAD", "/logs/clash", "", b"").0, 200);
    assert_eq!(metric(c.sluice.addr, "sluice_replication_dead_tasks"), Some(0.0));
}

/// A primary that died before the health check noticed: a PUT whose
/// connection is refused goes to the next backend (no 503), reads find it,
/// and once the primary is back the object converges to its replica set.
#[test]
fn a_write_to_a_dead_primary_goes_to_the_next_backend() {
    // Health checks every 2 s: the PUTs below run before any check notices.
    let mut c = Cluster::start_with(common::any_driver(), &config(2_000));
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    let on_eu1: Vec<&String> = keys.iter().filter(|k| c.primary_of("logs", k) == 0).collect();
    assert!(on_eu1.len() >= 5, "{on_eu1:?}");
    c.backends[0].stop();
    // Nothing knows eu1 is gone yet: the first PUT finds out by itself.
    for k in &on_eu1 {
        let (st, body) = s3(&c, "PUT", &format!("/logs/{k}"), "", k.as_bytes());
        assert_eq!(st, 200, "PUT {k} with its primary dead: {body}");
        let (st, body) = s3(&c, "GET", &format!("/logs/{k}"), "", b"");
        assert_eq!((st, body.as_str()), (200, k.as_str()));
    }
    c.backends[0].restart();
    c.wait_replicated(Duration::from_secs(120));
    let mut expected = String::new();
    for k in &on_eu1 {
        use sha2::Digest;
        let digest: String = sha2::Sha256::digest(k.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        expected.push_str(&format!("logs\t{k}\t{digest}\n"));
    }
    let v = verify_replicas(&c, &expected);
    assert_eq!(v.copies, on_eu1.len() * 2, "{v:?}");
}

/// A 3-replica bucket with `min_write_replicas = 2` takes writes with one of
/// three backends down and refuses them (503 SlowDown) with two down.
#[test]
fn min_write_replicas_is_enforced() {
    let extra = format!(
        "{}[[bucket]]\ntenant = \"acme\"\nname = \"strict\"\nreplicas = 3\nmin_write_replicas = 2\n\n",
        config(200)
    );
    let mut c = Cluster::start_with(common::any_driver(), &extra);
    c.backends[2].stop();
    wait_until("us1 marked down", Duration::from_secs(20), || backend_up(&c, "us1") == Some(0.0));
    assert_eq!(s3(&c, "PUT", "/strict/one-down", "", b"x").0, 200);
    c.backends[1].stop();
    wait_until("eu2 marked down", Duration::from_secs(20), || backend_up(&c, "eu2") == Some(0.0));
    let (st, body) = s3(&c, "PUT", "/strict/two-down", "", b"x");
    assert_eq!(st, 503, "{body}");
    assert!(body.contains("<Code>SlowDown</Code>"), "{body}");
    // The default (1) still writes with two of three down.
    assert_eq!(s3(&c, "PUT", "/triple/two-down", "", b"x").0, 200);
}

/// An overwrite acknowledged while the key's primary is down (so it went to
/// another replica) is what every read and listing returns, during the
/// outage and after the primary comes back with the older version, until
/// replication has replaced it.
#[test]
fn overwrites_are_read_your_writes_through_an_outage() {
    let mut c = Cluster::start_with(common::any_driver(), &config(200));
    let keys: Vec<String> = (0..12).map(|i| format!("ow/{i:02}")).collect();
    for k in &keys {
        assert_eq!(s3(&c, "PUT", &format!("/triple/{k}"), "", b"version one").0, 200);
    }
    c.wait_replicated(Duration::from_secs(60));
    let down = 2; // us1
    let on_down: Vec<&String> = keys.iter().filter(|k| c.primary_of("triple", k) == down).collect();
    assert!(!on_down.is_empty());
    c.backends[down].stop();
    wait_until("us1 marked down", Duration::from_secs(20), || backend_up(&c, "us1") == Some(0.0));
    for k in &keys {
        assert_eq!(s3(&c, "PUT", &format!("/triple/{k}"), "", b"version two!").0, 200);
    }
    let check = |c: &Cluster, when: &str| {
        for k in &keys {
            let (st, body) = s3(c, "GET", &format!("/triple/{k}"), "", b"");
            assert_eq!((st, body.as_str()), (200, "version two!"), "{when}: GET {k}");
        }
        let (st, body) = s3(c, "GET", "/triple", "list-type=2&prefix=ow/", b"");
        assert_eq!(st, 200, "{when}: {body}");
        // s3s-fs lists no ETags: the sizes tell the versions apart.
        let sizes = tags(&body, "Size");
        assert_eq!(sizes.len(), keys.len(), "{when}: {body}");
        assert!(sizes.iter().all(|s| s == "12"), "{when}: an older version listed: {body}");
    };
    check(&c, "during the outage");
    c.backends[down].restart();
    wait_until("us1 marked up", Duration::from_secs(20), || backend_up(&c, "us1") == Some(1.0));
    check(&c, "right after the primary came back");
    c.wait_replicated(Duration::from_secs(60));
    check(&c, "after replication");
    let phys = physical("acme", "triple");
    for k in &on_down {
        assert_eq!(c.backends[down].read_object(&phys, k).as_deref(), Some(&b"version two!"[..]), "{k}");
    }
}

/// Left-over write intents (a write that reached a backend but whose task
/// never became durable: the process died in between, so the write was
/// never acknowledged) are swept after a restart, each key repaired from what
/// the backends hold: an object that only one backend got ends up on its
/// whole replica set; a key with a record keeps its acknowledged version,
/// and the unacknowledged copy left outside the replica set goes.
#[test]
fn left_over_write_intents_are_repaired_after_a_restart() {
    use sluice::replication::{Intent, IntentIds};
    let mut c = Cluster::start_with(common::any_driver(), &config(200));
    // `older`: both replicas hold v1 through sluice.
    assert_eq!(s3(&c, "PUT", "/pair/older", "", b"older version").0, 200);
    c.wait_replicated(Duration::from_secs(60));
    c.sluice.terminate();
    let phys = physical("acme", "pair");
    let order_lone = c.placement_order("pair", "lone");
    let order_older = c.placement_order("pair", "older");
    // What the dead process's writes left: `lone` on its second replica only,
    // `older` v2 on the backend outside its replica set (a handoff write).
    std::thread::sleep(Duration::from_millis(1100)); // a later LastModified than v1
    on_backend(&c.backends[order_lone[1]], "put_object", &phys, "lone", b"only one copy");
    on_backend(&c.backends[order_older[2]], "put_object", &phys, "older", b"newer version, handed off");
    let ids = IntentIds::new(0x0dead, 0);
    let bucket = {
        let store = common::open_store(&c.sluice.data_dir);
        let snap = sluice::meta::SnapshotHub::new(&store.load().unwrap()).current();
        let b = snap.bucket("pair").unwrap();
        let intent = |key: &str, backend: usize| Intent {
            bucket: "pair".into(),
            bucket_id: b.id_hex.clone(),
            key: key.into(),
            backend: c.backends[backend].id.clone(),
            started_ms: sluice::replication::now_ms(),
        };
        store
            .tasks()
            .commit_batch(
                &mut [],
                &[(ids.next(), intent("lone", order_lone[1])), (ids.next(), intent("older", order_older[2]))],
                &[],
            )
            .unwrap();
        b.name.clone()
    };
    assert_eq!(bucket, "pair");
    c.restart_sluice(common::any_driver(), "", &config(200));
    wait_until("the intents swept", Duration::from_secs(30), || {
        metric(c.sluice.addr, "sluice_write_intents") == Some(0.0)
    });
    c.wait_replicated(Duration::from_secs(60));
    use sha2::Digest;
    let sha = |b: &[u8]| -> String { sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect() };
    let expected = format!("pair\tlone\t{}\npair\tolder\t{}\n", sha(b"only one copy"), sha(b"older version"));
    let v = verify_replicas(&c, &expected);
    assert_eq!((v.objects, v.copies), (2, 4), "{v:?}");
}

/// A copy changed behind sluice's back (another ETag) is not the truth: the
/// repair keeps the replica that matches sluice's record and replaces the
/// changed primary from it (the old repair copied the primary over the good
/// replica, and the acknowledged bytes were gone).
#[test]
fn repair_keeps_the_copy_that_matches_the_record() {
    let c = Cluster::start_with(common::any_driver(), &config(200));
    let good = b"the acknowledged bytes";
    assert_eq!(s3(&c, "PUT", "/logs/doc", "", good).0, 200);
    c.wait_replicated(Duration::from_secs(60));
    let order = c.placement_order("logs", "doc");
    let phys = physical("acme", "logs");
    on_backend(&c.backends[order[0]], "put_object", &phys, "doc", b"changed on the primary!");
    let out = c.sluice_cmd(&["repair", "--bucket", "logs"]);
    assert!(out.contains("1 under-replicated") && out.contains("0 lost"), "{out}");
    c.wait_replicated(Duration::from_secs(60));
    let v = verify_replicas(&c, &format!("logs\tdoc\t{}\n", sha_hex(good)));
    assert_eq!(v.copies, 2, "{v:?}");
    let (st, body) = s3(&c, "GET", "/logs/doc", "", b"");
    assert_eq!((st, body.as_bytes()), (200, &good[..]));
    // No copy matches any more: reported lost, and nothing is "repaired".
    for &i in &order {
        on_backend(&c.backends[i], "put_object", &phys, "doc", b"changed everywhere");
    }
    let out = c.sluice_cmd(&["repair", "--bucket", "logs"]);
    assert!(out.contains("1 lost") && out.contains("0 tasks queued"), "{out}");
    assert_eq!(c.backends[order[1]].read_object(&phys, "doc").as_deref(), Some(&b"changed everywhere"[..]));
}

/// A copy whose bytes were damaged in place (its backend still reports the
/// recorded ETag) is never copied to another replica: the stream's CRC does
/// not match the record, nothing is stored on the target, and the copy is
/// taken from another backend that holds the version instead.
#[test]
fn damaged_bytes_are_never_replicated() {
    let c = Cluster::start_with(common::any_driver(), &config(200));
    let good = b"0123456789 the acknowledged bytes 0123456789";
    assert_eq!(s3(&c, "PUT", "/pair/blob", "", good).0, 200);
    c.wait_replicated(Duration::from_secs(60));
    let order = c.placement_order("pair", "blob");
    let phys = physical("acme", "pair");
    // Damage the primary's file in place: same length, same stored ETag.
    let path = c.backends[order[0]].root.join(&phys).join("blob");
    let mut damaged = std::fs::read(&path).unwrap();
    damaged[3] ^= 0xff;
    std::fs::write(&path, &damaged).unwrap();
    // The second replica loses its copy; a good one sits outside the replica set.
    on_backend(&c.backends[order[1]], "delete_object", &phys, "blob", b"");
    on_backend(&c.backends[order[2]], "put_object", &phys, "blob", good);
    c.sluice_cmd(&["repair", "--bucket", "pair"]);
    c.wait_replicated(Duration::from_secs(60));
    assert_eq!(
        c.backends[order[1]].read_object(&phys, "blob").as_deref(),
        Some(&good[..]),
        "copied from the good copy"
    );
    assert!(metric(c.sluice.addr, "sluice_replication_corrupt_copies_total").is_some_and(|n| n >= 1.0));
    assert_eq!(metric(c.sluice.addr, "sluice_replication_dead_tasks"), Some(0.0));
    // With no good copy left anywhere, the damaged bytes still go nowhere.
    on_backend(&c.backends[order[1]], "delete_object", &phys, "blob", b"");
    c.sluice_cmd(&["repair", "--bucket", "pair"]);
    wait_until("a dead letter", Duration::from_secs(60), || {
        metric(c.sluice.addr, "sluice_replication_dead_tasks") == Some(1.0)
    });
    assert_eq!(c.backends[order[1]].read_object(&phys, "blob"), None, "damaged bytes were replicated");
}

/// Replica copies are PUT with a checksum the target verifies, and keep the
/// object's checksum: the client's own (here CRC32) when it sent one, else
/// sluice's CRC-64/NVME.
#[test]
fn replicas_keep_the_objects_checksum() {
    use base64::Engine;
    let c = Cluster::start_with(common::any_driver(), &config(200));
    let body = b"checksummed content";
    let crc32 = base64::engine::general_purpose::STANDARD
        .encode(&crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, body).to_be_bytes()[4..]);
    let (st, out) = s3_with(&c, "PUT", "/logs/with-crc32", "", &[("x-amz-checksum-crc32", &crc32)], body);
    assert_eq!(st, 200, "{out}");
    assert_eq!(s3(&c, "PUT", "/logs/plain", "", body).0, 200);
    c.wait_replicated(Duration::from_secs(60));
    let phys = physical("acme", "logs");
    let crc64 = base64::engine::general_purpose::STANDARD
        .encode(crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, body).to_be_bytes());
    for (key, field, want) in
        [("with-crc32", "ChecksumCRC32", crc32.as_str()), ("plain", "ChecksumCRC64NVME", crc64.as_str())]
    {
        let replica = &c.backends[c.placement_order("logs", key)[1]];
        let script = format!(
            "import boto3\ns3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='{}', \
             aws_secret_access_key='{}', region_name='us-east-1')\n\
             print(s3.head_object(Bucket='{phys}', Key='{key}', ChecksumMode='ENABLED').get('{field}'))\n",
            replica.endpoint(),
            replica.access_key,
            replica.secret_key
        );
        let out = std::process::Command::new("python3").args(["-c", &script]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want, "{key} on the replica {}", replica.id);
    }
}

/// Writes of at least 8 MiB record a write intent that their task clears:
/// a PUT, a CompleteMultipartUpload and a CopyObject on a replicated bucket
/// succeed, leave no intent behind, and replicate.
#[test]
fn large_writes_record_and_clear_their_intent() {
    let c = Cluster::start_with(common::any_driver(), &config(200));
    let big: Vec<u8> = (0..(9u32 << 20)).map(|i| (i % 251) as u8).collect();
    let (st, body) = s3(&c, "PUT", "/logs/big", "", &big);
    assert_eq!(st, 200, "{body}");
    let (st, body) = s3_with(&c, "PUT", "/logs/big-copy", "", &[("x-amz-copy-source", "/logs/big")], b"");
    assert_eq!(st, 200, "{body}");
    // Multipart: two parts of 5 MiB.
    let (st, body) = s3(&c, "POST", "/logs/mp", "uploads", b"");
    assert_eq!(st, 200, "{body}");
    let upload = tags(&body, "UploadId").remove(0);
    let part: Vec<u8> = vec![7u8; 5 << 20];
    let mut etags = Vec::new();
    for n in 1..=2 {
        let q = format!("partNumber={n}&uploadId={}", encode(&upload));
        let addr = c.sluice.addr;
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s.write_all(&signed_request(
            addr,
            &c.acme,
            &RawReq { query: &q, body: &part, ..RawReq::new("PUT", "/logs/mp") },
        ))
        .unwrap();
        s.write_all(&part).unwrap();
        let (st, head, _) = read_response(&mut s);
        assert_eq!(st, 200, "{head}");
        let etag =
            head.lines().find_map(|l| l.strip_prefix("etag: ").or_else(|| l.strip_prefix("ETag: "))).unwrap();
        etags.push(etag.trim().to_string());
    }
    let xml = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part>\
         <Part><PartNumber>2</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
        etags[0], etags[1]
    );
    let (st, body) = s3(&c, "POST", "/logs/mp", &format!("uploadId={}", encode(&upload)), xml.as_bytes());
    assert_eq!(st, 200, "{body}");
    assert_eq!(metric(c.sluice.addr, "sluice_write_intents"), Some(0.0));
    c.wait_replicated(Duration::from_secs(120));
    let mut mp = part.clone();
    mp.extend_from_slice(&part);
    let expected = format!(
        "logs\tbig\t{}\nlogs\tbig-copy\t{}\nlogs\tmp\t{}\n",
        sha_hex(&big),
        sha_hex(&big),
        sha_hex(&mp)
    );
    let v = verify_replicas(&c, &expected);
    assert_eq!(v.copies, 6, "{v:?}");
}
