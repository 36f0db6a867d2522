//! Writing S3 responses: errors (the XML from `error.rs`), empty successes and XML documents.

use crate::error::{S3Error, S3ErrorCode};
use crate::http::{Exchange, ResponseHead};

/// Content-Type of XML documents.
pub const XML: &[u8] = b"application/xml";

/// Prepares `ex` for a response sent before the request body was read: the
/// connection closes unless what is left of the body can be drained.
fn plan_early(ex: &mut Exchange<'_>) {
    if !ex.body_done() && !ex.can_drain() {
        ex.set_close();
    }
}

/// Writes an S3 error. HEAD requests and 304 get no body, as in AWS.
pub async fn error(
    ex: &mut Exchange<'_>,
    err: &S3Error,
    resource: &str,
    request_id: &str,
    head_request: bool,
) -> std::io::Result<()> {
    plan_early(ex);
    let mut body = Vec::new();
    if !head_request && err.code != S3ErrorCode::NotModified {
        err.write_xml(resource, request_id, &mut body);
    }
    let mut out = Vec::with_capacity(512 + body.len());
    let mut h = ResponseHead::start(&mut out, err.status(), request_id);
    if !body.is_empty() {
        h.header("Content-Type", XML);
    }
    if err.code != S3ErrorCode::NotModified {
        h.header_u64("Content-Length", body.len() as u64);
    }
    h.finish(ex.keep_alive());
    out.extend_from_slice(&body);
    ex.write_all(out).await.map(drop)
}

/// Writes a response with extra header lines and an optional body.
pub async fn send(
    ex: &mut Exchange<'_>,
    status: u16,
    request_id: &str,
    header_lines: &[u8],
    content_type: Option<&[u8]>,
    body: &[u8],
) -> Result<u16, S3Error> {
    plan_early(ex);
    let mut out = Vec::with_capacity(256 + header_lines.len() + body.len());
    let mut h = ResponseHead::start(&mut out, status, request_id);
    h.raw_lines(header_lines);
    if let Some(ct) = content_type {
        h.header("Content-Type", ct);
    }
    h.header_u64("Content-Length", body.len() as u64);
    h.finish(ex.keep_alive());
    out.extend_from_slice(body);
    client_write(ex, out).await?;
    Ok(status)
}

/// Writes to the client; a failure means the client is gone.
pub async fn client_write(ex: &mut Exchange<'_>, buf: Vec<u8>) -> Result<Vec<u8>, S3Error> {
    ex.write_all(buf).await.map_err(|_| {
        ex.set_close();
        S3Error::with_message(S3ErrorCode::InternalError, "client connection lost")
    })
}
