//! The client's request body as a [`BodySource`] for backends, verified as it streams.
//!
//! # Invariants
//! The final bytes of the body are handed out only after [`Integrity::finish`]
//! accepted the whole body. On a mismatch the caller gets the error instead of
//! the last chunk, so the backend request stays incomplete and no object appears.

use crate::backend::BodySource;
use crate::error::S3Error;
use crate::http::Exchange;
use crate::s3::integrity::Integrity;

/// A request body read from the client connection.
pub struct ClientBody<'e, 'c> {
    ex: &'e mut Exchange<'c>,
    integrity: Integrity,
    checked: bool,
}

impl<'e, 'c> ClientBody<'e, 'c> {
    pub fn new(ex: &'e mut Exchange<'c>, integrity: Integrity) -> Self {
        ClientBody { ex, integrity, checked: false }
    }
}

impl BodySource for ClientBody<'_, '_> {
    async fn next(&mut self, buf: Vec<u8>) -> (Result<usize, S3Error>, Vec<u8>) {
        let (res, buf) = self.ex.read_body(buf).await;
        let n = match res {
            Ok(n) => n,
            Err(e) => return (Err(e.into()), buf),
        };
        self.integrity.update(&buf[..n]);
        if self.ex.body_done() && !self.checked {
            self.checked = true;
            if let Err(e) = self.integrity.finish() {
                return (Err(e), buf);
            }
        }
        (Ok(n), buf)
    }

    fn checksum(&self) -> Option<(&'static str, String)> {
        self.integrity.verified_checksum()
    }
}
