//! Multipart bookkeeping in LMDB: every upload sluice started and every part
//! it accepted, so that ListParts, ListMultipartUploads and the checks of
//! CompleteMultipartUpload (InvalidPart, InvalidPartOrder, EntityTooSmall,
//! part checksums) follow S3 whatever the backend remembers.
//!
//! Databases:
//! - `uploads`: upload id (the token clients see) -> [`UploadRecord`];
//! - `uploads_by_key`: `<bucket id hex>/<key>\0<upload id>` -> `()`, the
//!   listing order of ListMultipartUploads (key, then upload id);
//! - `parts`: `<upload id>/<part number, 5 digits>` -> [`PartRecord`].
//!
//! Like the rest of the store, every call is blocking: use the blocking pool.

use heed::types::{Bytes, SerdeJson, Str, Unit};
use heed::{Database, Env};
use serde::{Deserialize, Serialize};

use super::store::{MetaError, MetaStore};

/// An upload in progress.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UploadRecord {
    /// The upload id handed to the client.
    pub upload_id: String,
    pub tenant: String,
    pub bucket: String,
    pub bucket_id: String,
    pub key: String,
    /// The backend holding the upload and its own upload id.
    pub backend_id: String,
    pub backend_upload_id: String,
    /// Unix seconds.
    pub initiated: i64,
    /// `x-amz-checksum-algorithm` of CreateMultipartUpload (e.g. "CRC32").
    pub checksum_algorithm: Option<String>,
    /// `x-amz-checksum-type`: "COMPOSITE" or "FULL_OBJECT".
    pub checksum_type: Option<String>,
}

/// A part sluice accepted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartRecord {
    pub number: u16,
    /// The quoted ETag the client got.
    pub etag: String,
    pub size: u64,
    /// Unix seconds.
    pub last_modified: i64,
    /// (algorithm name, base64 value) when the part carried a checksum.
    pub checksum: Option<(String, String)>,
    /// CRC-64/NVME sluice computed as the part streamed (the object's is
    /// combined from these at completion).
    #[serde(default)]
    pub crc64: Option<u64>,
}

/// The multipart databases.
pub(super) struct UploadDbs {
    uploads: Database<Str, SerdeJson<UploadRecord>>,
    by_key: Database<Bytes, Unit>,
    parts: Database<Str, SerdeJson<PartRecord>>,
}

impl UploadDbs {
    pub(super) fn create(env: &Env, wtxn: &mut heed::RwTxn<'_>) -> Result<UploadDbs, MetaError> {
        Ok(UploadDbs {
            uploads: env.create_database(wtxn, Some("uploads"))?,
            by_key: env.create_database(wtxn, Some("uploads_by_key"))?,
            parts: env.create_database(wtxn, Some("parts"))?,
        })
    }
}

fn by_key_entry(bucket_id: &str, key: &str, upload_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket_id.len() + key.len() + upload_id.len() + 2);
    k.extend_from_slice(bucket_id.as_bytes());
    k.push(b'/');
    k.extend_from_slice(key.as_bytes());
    k.push(0);
    k.extend_from_slice(upload_id.as_bytes());
    k
}

fn part_key(upload_id: &str, number: u16) -> String {
    format!("{upload_id}/{number:05}")
}

/// A page of uploads of one bucket.
#[derive(Debug, Default)]
pub struct UploadsPage {
    pub uploads: Vec<UploadRecord>,
    pub is_truncated: bool,
}

impl MetaStore {
    /// Records a new upload.
    pub fn insert_upload(&self, rec: &UploadRecord) -> Result<(), MetaError> {
        let mut wtxn = self.env().write_txn()?;
        let dbs = self.upload_dbs();
        dbs.uploads.put(&mut wtxn, &rec.upload_id, rec)?;
        dbs.by_key.put(&mut wtxn, &by_key_entry(&rec.bucket_id, &rec.key, &rec.upload_id), &())?;
        wtxn.commit()?;
        Ok(())
    }

    /// The upload `upload_id`, if it is still in progress.
    pub fn get_upload(&self, upload_id: &str) -> Result<Option<UploadRecord>, MetaError> {
        let rtxn = self.env().read_txn()?;
        Ok(self.upload_dbs().uploads.get(&rtxn, upload_id)?)
    }

    /// Records a part (replacing an earlier part with the same number).
    /// Returns false when the upload is gone (completed or aborted meanwhile).
    pub fn put_part(&self, upload_id: &str, part: &PartRecord) -> Result<bool, MetaError> {
        let mut wtxn = self.env().write_txn()?;
        let dbs = self.upload_dbs();
        if dbs.uploads.get(&wtxn, upload_id)?.is_none() {
            return Ok(false);
        }
        dbs.parts.put(&mut wtxn, &part_key(upload_id, part.number), part)?;
        wtxn.commit()?;
        Ok(true)
    }

    /// Parts after part number `after`, at most `max`, and whether more follow.
    pub fn list_parts(
        &self,
        upload_id: &str,
        after: u16,
        max: usize,
    ) -> Result<(Vec<PartRecord>, bool), MetaError> {
        let rtxn = self.env().read_txn()?;
        let prefix = format!("{upload_id}/");
        let mut out = Vec::new();
        for item in self.upload_dbs().parts.prefix_iter(&rtxn, &prefix)? {
            let (_, part) = item?;
            if part.number <= after {
                continue;
            }
            if out.len() == max {
                return Ok((out, true));
            }
            out.push(part);
        }
        Ok((out, false))
    }

    /// Removes an upload and its parts. Returns whether it existed.
    pub fn remove_upload(&self, upload_id: &str) -> Result<Option<UploadRecord>, MetaError> {
        let mut wtxn = self.env().write_txn()?;
        let dbs = self.upload_dbs();
        let Some(rec) = dbs.uploads.get(&wtxn, upload_id)? else { return Ok(None) };
        dbs.uploads.delete(&mut wtxn, upload_id)?;
        dbs.by_key.delete(&mut wtxn, &by_key_entry(&rec.bucket_id, &rec.key, upload_id))?;
        let prefix = format!("{upload_id}/");
        let keys: Vec<String> = dbs
            .parts
            .prefix_iter(&wtxn, &prefix)?
            .map(|item| item.map(|(k, _)| k.to_string()))
            .collect::<Result<_, _>>()?;
        for k in keys {
            dbs.parts.delete(&mut wtxn, &k)?;
        }
        wtxn.commit()?;
        Ok(Some(rec))
    }

    /// Number of multipart uploads in progress on backend `backend_id`.
    pub fn uploads_on_backend(&self, backend_id: &str) -> Result<usize, MetaError> {
        let rtxn = self.env().read_txn()?;
        let mut n = 0;
        for item in self.upload_dbs().uploads.iter(&rtxn)? {
            n += usize::from(item?.1.backend_id == backend_id);
        }
        Ok(n)
    }

    /// Uploads of a bucket whose key starts with `prefix`, in (key, upload id)
    /// order, strictly after (`key_marker`, `upload_id_marker`) as S3 defines
    /// the markers, at most `max`.
    pub fn list_uploads(
        &self,
        bucket_id: &str,
        prefix: &str,
        key_marker: &str,
        upload_id_marker: &str,
        max: usize,
    ) -> Result<UploadsPage, MetaError> {
        let rtxn = self.env().read_txn()?;
        let dbs = self.upload_dbs();
        let mut scan = Vec::with_capacity(bucket_id.len() + prefix.len() + 1);
        scan.extend_from_slice(bucket_id.as_bytes());
        scan.push(b'/');
        let bucket_len = scan.len();
        scan.extend_from_slice(prefix.as_bytes());
        let mut page = UploadsPage::default();
        for item in dbs.by_key.prefix_iter(&rtxn, &scan)? {
            let (entry, ()) = item?;
            let rest = &entry[bucket_len..];
            let Some(nul) = rest.iter().position(|&b| b == 0) else { continue };
            let (key, id) = (&rest[..nul], &rest[nul + 1..]);
            // Without an upload-id-marker, everything up to and including
            // key-marker is skipped; with one, uploads of key-marker after it remain.
            let after_marker = if upload_id_marker.is_empty() || key != key_marker.as_bytes() {
                key > key_marker.as_bytes()
            } else {
                id > upload_id_marker.as_bytes()
            };
            if !key_marker.is_empty() && !after_marker {
                continue;
            }
            if page.uploads.len() == max {
                page.is_truncated = true;
                break;
            }
            let id = std::str::from_utf8(id).unwrap_or_default();
            if let Some(rec) = dbs.uploads.get(&rtxn, id)? {
                page.uploads.push(rec);
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, key: &str) -> UploadRecord {
        UploadRecord {
            upload_id: id.into(),
            tenant: "t".into(),
            bucket: "b".into(),
            bucket_id: "00ff".into(),
            key: key.into(),
            backend_id: "eu1".into(),
            backend_upload_id: format!("be-{id}"),
            initiated: 1,
            checksum_algorithm: None,
            checksum_type: None,
        }
    }

    fn part(n: u16) -> PartRecord {
        PartRecord {
            number: n,
            etag: format!("\"e{n}\""),
            size: 5,
            last_modified: 2,
            checksum: None,
            crc64: None,
        }
    }

    #[test]
    fn uploads_and_parts() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            MetaStore::open(dir.path(), &crate::meta::crypto::MasterKey::from_bytes([7; 32])).unwrap();
        store.insert_upload(&rec("u2", "a/x")).unwrap();
        store.insert_upload(&rec("u1", "a/x")).unwrap();
        store.insert_upload(&rec("u3", "b")).unwrap();
        assert_eq!(store.get_upload("u1").unwrap().unwrap().key, "a/x");
        for n in [3, 1, 2, 10] {
            assert!(store.put_part("u1", &part(n)).unwrap());
        }
        assert!(!store.put_part("nope", &part(1)).unwrap());
        let (parts, more) = store.list_parts("u1", 0, 3).unwrap();
        assert_eq!(parts.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(more);
        let (parts, more) = store.list_parts("u1", 3, 3).unwrap();
        assert_eq!((parts.len(), parts[0].number, more), (1, 10, false));

        let ids = |p: UploadsPage| p.uploads.into_iter().map(|u| u.upload_id).collect::<Vec<_>>();
        assert_eq!(ids(store.list_uploads("00ff", "", "", "", 10).unwrap()), ["u1", "u2", "u3"]);
        assert_eq!(ids(store.list_uploads("00ff", "a/", "", "", 10).unwrap()), ["u1", "u2"]);
        assert_eq!(ids(store.list_uploads("00ff", "", "a/x", "", 10).unwrap()), ["u3"]);
        assert_eq!(ids(store.list_uploads("00ff", "", "a/x", "u1", 10).unwrap()), ["u2", "u3"]);
        let page = store.list_uploads("00ff", "", "", "", 2).unwrap();
        assert!(page.is_truncated);
        assert!(store.list_uploads("other", "", "", "", 10).unwrap().uploads.is_empty());

        let on = |b: &str| store.uploads_on_backend(b).unwrap();
        assert_eq!((on(&rec("x", "k").backend_id), on("elsewhere")), (3, 0));
        assert_eq!(store.remove_upload("u1").unwrap().unwrap().upload_id, "u1");
        assert!(store.remove_upload("u1").unwrap().is_none());
        assert!(store.list_parts("u1", 0, 100).unwrap().0.is_empty());
        assert_eq!(ids(store.list_uploads("00ff", "", "", "", 10).unwrap()), ["u2", "u3"]);
    }
}
