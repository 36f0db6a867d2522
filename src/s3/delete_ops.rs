//! DeleteObjects: the multi-delete XML, with the integrity header AWS
//! requires (Content-MD5 or an x-amz-checksum-*), quiet mode and per-key
//! errors. Each key is deleted on its primary. Spec:
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>.

use crate::error::{S3Error, S3ErrorCode};
use crate::http::Exchange;
use crate::s3::integrity::Integrity;
use crate::s3::multipart::{DeleteOutcome, parse_delete_objects, write_delete_result};
use crate::s3::object_ops::{WriteGuard, check_key, delete_key};
use crate::s3::respond::{self, XML};
use crate::s3::service::Ctx;
use crate::sigv4::PayloadHash;

/// Largest DeleteObjects body: 1000 keys of 1024 bytes, escaped, fit.
pub const MAX_DELETE_BODY: usize = 8 * 1024 * 1024;

pub async fn delete_objects(ctx: &Ctx<'_, '_>, ex: &mut Exchange<'_>, bucket: &str) -> Result<u16, S3Error> {
    let b = ctx.owned_bucket(bucket)?;
    let has_integrity = ctx.head.header("content-md5").is_some()
        || ctx.head.headers.iter().any(|h| crate::backend::object::is_checksum_header(h.name));
    if !has_integrity {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Missing required header for this request: Content-MD5 or x-amz-checksum-*",
        ));
    }
    let signed = match ctx.payload {
        PayloadHash::Sha256(h) => Some(h),
        PayloadHash::Unsigned => None,
        _ => {
            return Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                "aws-chunked bodies are not implemented here.",
            ));
        }
    };
    let mut integrity = Integrity::from_request(ctx.head, signed)?;
    let body = ex.read_small_body(MAX_DELETE_BODY).await?;
    integrity.update(&body);
    integrity.finish()?;
    let req = parse_delete_objects(&body)?;
    let _guard = WriteGuard::enter(&b.state)?;
    let mut results: Vec<Result<(), S3Error>> = Vec::with_capacity(req.objects.len());
    for obj in &req.objects {
        let result = async {
            if obj.version_id.as_deref().is_some_and(|v| v != "null") {
                return Err(S3Error::with_message(
                    S3ErrorCode::NotImplemented,
                    "Object versions are not implemented.",
                ));
            }
            check_key(&obj.key)?;
            delete_key(ctx, b, &obj.key).await
        }
        .await;
        results.push(result);
    }
    let outcomes = req.objects.iter().zip(&results).map(|(obj, r)| match r {
        Ok(()) => DeleteOutcome::Deleted { key: &obj.key, version_id: obj.version_id.as_deref() },
        Err(error) => DeleteOutcome::Failed { key: &obj.key, version_id: obj.version_id.as_deref(), error },
    });
    let mut out = Vec::with_capacity(256 + req.objects.len() * 64);
    write_delete_result(outcomes, req.quiet, &mut out);
    respond::send(ex, 200, ctx.request_id, &[], Some(XML), &out).await
}
