//! The Rust `aws-sdk-s3` against sluice: it sends aws-chunked bodies with
//! trailing checksums by default, so it covers the streaming modes; each mode
//! is also forced explicitly. Plain HTTP endpoint (TLS-less).

mod common;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart};
use common::Cluster;

fn client(c: &Cluster, checksums: RequestChecksumCalculation) -> Client {
    let creds = Credentials::new(&c.acme.access_key, &c.acme.secret_key, None, None, "test");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(c.sluice.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(creds)
        .force_path_style(true)
        .request_checksum_calculation(checksums)
        .build();
    Client::from_conf(config)
}

/// A `file://` backend in region "local" and a bucket that lives only there.
fn file_backend_config() -> String {
    let dir = tempfile::tempdir().unwrap().keep();
    format!(
        "[[backend]]\nid = \"local\"\nendpoint = \"file://{}\"\nregion = \"local\"\n\n\
         [[bucket]]\ntenant = \"acme\"\nname = \"demo-file\"\nresidency = [\"local\"]\nreplicas = 1\n",
        dir.display()
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn sdk_put_get_with_trailing_checksums() {
    for d in common::drivers() {
        // "demo-file" lives on a file:// backend, "logs" on s3s-fs.
        let c = Cluster::start_with(d, &file_backend_config());
        runtime().block_on(async {
            for calc in [RequestChecksumCalculation::WhenSupported, RequestChecksumCalculation::WhenRequired]
            {
                let s3 = client(&c, calc);
                for (i, size) in [0usize, 1, 70_000, 3 * 1024 * 1024 + 3].into_iter().enumerate() {
                    let data: Vec<u8> = (0..size).map(|x| (x * 7 % 256) as u8).collect();
                    let key = format!("sdk/{calc:?}/{i}");
                    for alg in [
                        None,
                        Some(ChecksumAlgorithm::Crc32),
                        Some(ChecksumAlgorithm::Crc32C),
                        Some(ChecksumAlgorithm::Crc64Nvme),
                        Some(ChecksumAlgorithm::Sha1),
                        Some(ChecksumAlgorithm::Sha256),
                    ] {
                        let mut put =
                            s3.put_object().bucket("logs").key(&key).body(ByteStream::from(data.clone()));
                        if let Some(a) = alg.clone() {
                            put = put.checksum_algorithm(a);
                        }
                        put.send().await.unwrap_or_else(|e| panic!("put {key} {alg:?}: {e:?}"));
                        let got = s3
                            .get_object()
                            .bucket("logs")
                            .key(&key)
                            .checksum_mode(ChecksumMode::Enabled)
                            .send()
                            .await
                            .unwrap();
                        let bytes = got.body.collect().await.unwrap().into_bytes();
                        assert_eq!(bytes.len(), size);
                        assert!(bytes[..] == data[..], "{key}");
                    }
                }
            }
        });
    }
}

#[test]
fn sdk_multipart_upload() {
    let c = Cluster::start(common::any_driver());
    runtime().block_on(async {
        let s3 = client(&c, RequestChecksumCalculation::WhenSupported);
        let part = vec![b'm'; 5 * 1024 * 1024];
        let up = s3
            .create_multipart_upload()
            .bucket("any")
            .key("sdk/multi")
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .unwrap();
        let id = up.upload_id().unwrap().to_string();
        let mut parts = Vec::new();
        for n in 1..=2 {
            let body = if n == 1 { part.clone() } else { b"last".to_vec() };
            let out = s3
                .upload_part()
                .bucket("any")
                .key("sdk/multi")
                .upload_id(&id)
                .part_number(n)
                .checksum_algorithm(ChecksumAlgorithm::Crc32)
                .body(ByteStream::from(body))
                .send()
                .await
                .unwrap();
            parts.push(
                CompletedPart::builder()
                    .part_number(n)
                    .e_tag(out.e_tag().unwrap())
                    .checksum_crc32(out.checksum_crc32().unwrap())
                    .build(),
            );
        }
        let done = s3
            .complete_multipart_upload()
            .bucket("any")
            .key("sdk/multi")
            .upload_id(&id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .unwrap();
        assert!(done.e_tag().unwrap().ends_with("-2\""), "{:?}", done.e_tag());
        assert!(done.checksum_crc32().unwrap().ends_with("-2"), "{:?}", done.checksum_crc32());
        let got = s3.get_object().bucket("any").key("sdk/multi").send().await.unwrap();
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert_eq!(bytes.len(), part.len() + 4);
        assert!(bytes.ends_with(b"last"));
    });
}
