//! The README's one command: `sluice serve` with no flags starts on
//! 127.0.0.1:9000 with three `file://` backends under ./sluice-data and a demo
//! tenant whose key it prints; the AWS CLI works against it at once.

mod common;

use std::process::Command;

use common::{Sluice, run};

fn start_default(dir: &std::path::Path, driver: &str) -> (Sluice, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    cmd.arg("serve").current_dir(dir);
    let s = Sluice::spawn(cmd, driver, dir.join("sluice-data"));
    assert_eq!(s.addr.to_string(), "127.0.0.1:9000");
    let value = |name: &str| {
        s.stdout_rest
            .iter()
            .find_map(|l| l.trim().strip_prefix(&format!("export {name}=")).map(str::to_string))
            .unwrap_or_else(|| panic!("{name} not printed: {:?}", s.stdout_rest))
    };
    let (ak, sk) = (value("AWS_ACCESS_KEY_ID"), value("AWS_SECRET_ACCESS_KEY"));
    (s, ak, sk)
}

#[test]
fn default_serve_works_with_the_aws_cli() {
    // One test for both drivers: they share the fixed default port.
    for driver in common::drivers() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, ak, sk) = start_default(dir.path(), driver);
        // The first start prints a bootstrap admin token, and it works.
        let token = s
            .stdout_rest
            .iter()
            .find_map(|l| l.trim().strip_prefix("export SLUICE_ADMIN_TOKEN=").map(str::to_string))
            .expect("a bootstrap admin token on the first start");
        let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["admin", "tenants", "list", "--json"])
            .env("SLUICE_ADMIN_TOKEN", &token)
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("\"demo\""), "{out:?}");
        let env: Vec<(String, String)> = vec![
            ("AWS_ACCESS_KEY_ID".into(), ak.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), sk.clone()),
            ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
            ("AWS_CONFIG_FILE".into(), "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into()),
        ];
        let src = dir.path().join("hello.txt");
        std::fs::write(&src, b"hello from the default config\n").unwrap();
        let ep = "http://127.0.0.1:9000";
        run("aws", &["--endpoint-url", ep, "s3", "cp", src.to_str().unwrap(), "s3://demo/hello.txt"], &env);
        let back = dir.path().join("back.txt");
        run("aws", &["--endpoint-url", ep, "s3", "cp", "s3://demo/hello.txt", back.to_str().unwrap()], &env);
        assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&src).unwrap());
        // The object is on two of the three local backends under ./sluice-data
        // (the demo bucket has two replicas) once replication ran.
        let backends = dir.path().join("sluice-data/backends");
        let metas = || -> Vec<_> {
            ["local-a", "local-b", "local-c"]
                .iter()
                .flat_map(|b| walk(&backends.join(b)))
                .filter(|p| p.extension().is_some_and(|e| e == "meta"))
                .collect()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while metas().len() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let metas = metas();
        assert_eq!(metas.len(), 2, "{metas:?}");
        assert!(std::fs::read_to_string(&metas[0]).unwrap().contains("\"key\":\"hello.txt\""));
        assert!(s.terminate().success());

        // A restart keeps the key and the data.
        let (mut s, ak2, sk2) = start_default(dir.path(), driver);
        assert_eq!((ak2, sk2), (ak, sk));
        assert!(
            !s.stdout_rest.iter().any(|l| l.contains("SLUICE_ADMIN_TOKEN")),
            "the token is printed only once"
        );
        let again = dir.path().join("again.txt");
        run("aws", &["--endpoint-url", ep, "s3", "cp", "s3://demo/hello.txt", again.to_str().unwrap()], &env);
        assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&src).unwrap());
        assert!(s.terminate().success());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    rd.flatten().flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] }).collect()
}
