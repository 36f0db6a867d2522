//! Real command-line clients against sluice: the AWS CLI (cp, sync, ls
//! --recursive, rm --recursive, s3api), rclone and s3cmd (Debian packages,
//! installed by .ci/run).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Cluster, run};

/// A small tree of files, one of them large enough for multipart uploads.
fn make_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for (name, size) in [
        ("a.txt", 10),
        ("empty", 0),
        ("sub/b.bin", 70_000),
        ("sub/deeper/c.bin", 1_000_003),
        ("sub/space name.txt", 33),
        ("unicodé/ü.txt", 5),
        ("big.bin", 18 * 1024 * 1024 + 11),
    ] {
        let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &data).unwrap();
        files.insert(name.to_string(), data);
    }
    files
}

fn read_tree(dir: &Path, base: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            read_tree(&p, base, out);
        } else {
            out.insert(
                p.strip_prefix(base).unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            );
        }
    }
}

fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    read_tree(dir, dir, &mut out);
    out
}

#[test]
fn aws_cli_sync_ls_rm_and_s3api() {
    for d in common::drivers() {
        let c = Cluster::start(d);
        let env = c.env();
        let ep = c.sluice.endpoint();
        let src = c.dir.path().join("tree");
        let files = make_tree(&src);
        let aws = |args: &[&str]| {
            let mut all = vec!["--endpoint-url", ep.as_str()];
            all.extend_from_slice(args);
            run("aws", &all, &env)
        };
        aws(&["s3", "sync", src.to_str().unwrap(), "s3://any/sync/"]);
        let listing = aws(&["s3", "ls", "--recursive", "s3://any/sync/"]);
        for (name, data) in &files {
            let line = listing
                .lines()
                .find(|l| l.ends_with(&format!("sync/{name}")))
                .unwrap_or_else(|| panic!("{name} missing: {listing}"));
            assert!(line.contains(&format!(" {} sync/", data.len())), "{line}");
        }
        // The big file went up as a multipart upload.
        let head = aws(&["s3api", "head-object", "--bucket", "any", "--key", "sync/big.bin"]);
        assert!(head.contains("-3\\\""), "{head}");
        // A second sync uploads only what changed.
        std::fs::write(src.join("a.txt"), b"changed!").unwrap();
        let out = aws(&["s3", "sync", src.to_str().unwrap(), "s3://any/sync/"]);
        assert!(out.contains("a.txt") && !out.contains("big.bin"), "{out}");
        // Download everything back and compare.
        let back = c.dir.path().join("back");
        aws(&["s3", "sync", "s3://any/sync/", back.to_str().unwrap()]);
        assert_eq!(tree(&back), tree(&src));
        aws(&["s3", "cp", "s3://any/sync/big.bin", c.dir.path().join("big.copy").to_str().unwrap()]);
        assert_eq!(std::fs::read(c.dir.path().join("big.copy")).unwrap(), files["big.bin"]);
        // s3api calls
        aws(&[
            "s3api",
            "put-object",
            "--bucket",
            "logs",
            "--key",
            "api/x",
            "--body",
            src.join("a.txt").to_str().unwrap(),
            "--content-type",
            "text/x",
        ]);
        let got = aws(&["s3api", "list-objects-v2", "--bucket", "logs", "--prefix", "api/"]);
        assert!(got.contains("\"Key\": \"api/x\""), "{got}");
        aws(&["s3api", "copy-object", "--bucket", "logs", "--key", "api/y", "--copy-source", "logs/api/x"]);
        let del = aws(&[
            "s3api",
            "delete-objects",
            "--bucket",
            "logs",
            "--delete",
            "{\"Objects\":[{\"Key\":\"api/x\"},{\"Key\":\"api/y\"}]}",
        ]);
        assert!(del.contains("api/x") && del.contains("api/y"), "{del}");
        // rm --recursive empties the prefix.
        aws(&["s3", "rm", "--recursive", "s3://any/sync/"]);
        let listing = aws(&["s3", "ls", "--recursive", "s3://any/"]);
        assert!(!listing.contains("sync/"), "{listing}");
        aws(&["s3", "mb", "s3://cli-made"]);
        aws(&["s3", "rb", "s3://cli-made"]);
    }
}

#[test]
fn rclone_copy_check_delete() {
    let c = Cluster::start(common::any_driver());
    let env = rclone_env(&c);
    // rclone probes `bucket/path` with a HEAD of `path`; s3s-fs answers 500
    // for a key that is a directory on its disk, so work at the bucket root.
    let src = c.dir.path().join("tree");
    let files = make_tree(&src.join("rc"));
    let up = ["--s3-chunk-size", "5M", "--s3-upload-cutoff", "5M"];
    run("rclone", &[&["copy"][..], &up, &[src.to_str().unwrap(), "sluice:any"]].concat(), &env);
    let ls = run("rclone", &["ls", "sluice:any"], &env);
    for (name, data) in &files {
        assert!(ls.contains(&format!("{} rc/{name}", data.len())), "{name}: {ls}");
    }
    run("rclone", &["check", src.to_str().unwrap(), "sluice:any"], &env);
    let back = c.dir.path().join("rc-back");
    run("rclone", &["copy", "sluice:any", back.to_str().unwrap()], &env);
    assert_eq!(tree(&back), tree(&src));
    run("rclone", &["mkdir", "sluice:rclone-made"], &env);
    run("rclone", &["copyto", src.join("rc/a.txt").to_str().unwrap(), "sluice:rclone-made/a.txt"], &env);
    assert!(run("rclone", &["ls", "sluice:rclone-made"], &env).contains("a.txt"));
    run("rclone", &["purge", "sluice:rclone-made"], &env);
    run("rclone", &["delete", "sluice:any"], &env);
    assert_eq!(run("rclone", &["ls", "sluice:any"], &env).trim(), "");
}

#[test]
fn s3cmd_put_get_ls_del() {
    let c = Cluster::start(common::any_driver());
    let env = c.env();
    let cfg = c.dir.path().join("s3cfg");
    std::fs::write(
        &cfg,
        format!(
            "[default]\naccess_key = {}\nsecret_key = {}\nhost_base = {}\nhost_bucket = {}\nuse_https = False\n\
             signature_v2 = False\nbucket_location = us-east-1\nmultipart_chunk_size_mb = 5\n",
            c.acme.access_key, c.acme.secret_key, c.sluice.addr, c.sluice.addr
        ),
    )
    .unwrap();
    let s3cmd = |args: &[&str]| {
        let mut all = vec!["-c", cfg.to_str().unwrap()];
        all.extend_from_slice(args);
        run("s3cmd", &all, &env)
    };
    let src = c.dir.path().join("tree");
    let files = make_tree(&src);
    s3cmd(&["put", src.join("a.txt").to_str().unwrap(), "s3://any/s3cmd/a.txt"]);
    s3cmd(&["put", src.join("big.bin").to_str().unwrap(), "s3://any/s3cmd/big.bin"]);
    let ls = s3cmd(&["ls", "s3://any/s3cmd/"]);
    assert!(ls.contains("s3://any/s3cmd/a.txt") && ls.contains("s3://any/s3cmd/big.bin"), "{ls}");
    let back = c.dir.path().join("s3cmd-big");
    s3cmd(&["get", "s3://any/s3cmd/big.bin", back.to_str().unwrap()]);
    assert_eq!(std::fs::read(&back).unwrap(), files["big.bin"]);
    s3cmd(&["sync", &format!("{}/", src.join("sub").to_str().unwrap()), "s3://any/s3cmd/sub/"]);
    let ls = s3cmd(&["ls", "--recursive", "s3://any/s3cmd/sub/"]);
    assert!(ls.contains("deeper/c.bin") && ls.contains("space name.txt"), "{ls}");
    s3cmd(&["del", "--recursive", "--force", "s3://any/s3cmd/"]);
    assert!(!s3cmd(&["ls", "--recursive", "s3://any/"]).contains("s3cmd/"));
    s3cmd(&["mb", "s3://s3cmd-made"]);
    s3cmd(&["rb", "s3://s3cmd-made"]);
}

/// rclone's environment for `sluice:` remotes.
fn rclone_env(c: &Cluster) -> Vec<(String, String)> {
    let mut env = c.env();
    for (k, v) in [
        ("TYPE", "s3".to_string()),
        ("PROVIDER", "Other".to_string()),
        ("ACCESS_KEY_ID", c.acme.access_key.clone()),
        ("SECRET_ACCESS_KEY", c.acme.secret_key.clone()),
        ("ENDPOINT", c.sluice.endpoint()),
        ("REGION", "us-east-1".to_string()),
        ("FORCE_PATH_STYLE", "true".to_string()),
    ] {
        env.push((format!("RCLONE_CONFIG_SLUICE_{k}"), v));
    }
    env.push(("RCLONE_CONFIG".into(), "/dev/null".into()));
    // rclone 1.60's SDK cannot use a custom CA bundle with its transport; the
    // endpoint is plain HTTP anyway.
    env.push(("AWS_CA_BUNDLE".into(), String::new()));
    env
}

/// The issue-11 reproductions on buckets with 2 and 3 replicas: `rclone sync`
/// that deletes, followed at once by `rclone check`, and `aws s3 rb --force`
/// of a full bucket, several rounds each. Both need read-your-deletes across
/// replicas (a replica that still lists a deleted key fails the check, and
/// makes DeleteBucket answer BucketNotEmpty).
#[test]
fn replicated_sync_check_and_rb_force() {
    let c = Cluster::start_opts(common::any_driver(), "default_replicas = 2\n", "");
    let env = rclone_env(&c);
    let ep = c.sluice.endpoint();
    let aws = |args: &[&str]| {
        let mut all = vec!["--endpoint-url", ep.as_str()];
        all.extend_from_slice(args);
        run("aws", &all, &env)
    };
    let src = c.dir.path().join("synced");
    let write = |name: &str, round: usize| {
        let path = src.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{name} in round {round}").repeat(round + 1)).unwrap();
    };
    aws(&["s3", "mb", "s3://rep-sync"]);
    for round in 0..4 {
        for i in 0..40 {
            // Every round rewrites some files, adds new ones and removes others.
            if (i + round) % 3 != 0 {
                write(&format!("d{}/f{i}.txt", i % 4), round);
            } else {
                let _ = std::fs::remove_file(src.join(format!("d{}/f{i}.txt", i % 4)));
            }
        }
        run("rclone", &["sync", src.to_str().unwrap(), "sluice:rep-sync"], &env);
        run("rclone", &["check", src.to_str().unwrap(), "sluice:rep-sync"], &env);
    }
    // rb --force: empty the bucket (ListObjects + DeleteObjects), then DeleteBucket.
    aws(&["s3", "rb", "--force", "s3://rep-sync"]);
    let buckets = aws(&["s3", "ls"]);
    assert!(!buckets.contains("rep-sync"), "{buckets}");
    for (round, replicas) in [(0, 2), (1, 3), (2, 2), (3, 3)] {
        let name = format!("rb-force-{round}");
        let admin = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["admin", "buckets", "create", "acme", &name, "--replicas", &replicas.to_string()])
            .env("SLUICE_ADMIN_URL", &ep)
            .env("SLUICE_ADMIN_TOKEN", common::TEST_ADMIN_TOKEN)
            .output()
            .unwrap();
        assert!(admin.status.success(), "{}", String::from_utf8_lossy(&admin.stderr));
        aws(&["s3", "sync", src.to_str().unwrap(), &format!("s3://{name}/")]);
        aws(&["s3", "rb", "--force", &format!("s3://{name}")]);
        assert!(!aws(&["s3", "ls"]).contains(&name), "{name} was not deleted");
    }
}
