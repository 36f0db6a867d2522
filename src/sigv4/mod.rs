//! AWS Signature Version 4 for S3: verification of client requests (header
//! auth and presigned URLs) and signing of the requests sluice sends to
//! backends.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>.
//!
//! Use on the hot path (one [`SigV4Scratch`] and one [`SigningKeyCache`] per core):
//!
//! ```text
//! let input = AuthInput::from_head(&head);
//! let auth = sigv4::detect(&input)?;                  // syntax only, no secret yet
//! let Some(ak) = auth.access_key() else { /* anonymous */ };
//! let (secret, version) = snapshot.secret_of(ak)?;    // unknown key: InvalidAccessKeyId (caller)
//! let v = sigv4::verify(&input, &auth, secret, version, &ctx, &mut scratch, &mut cache)?;
//! // v.payload says how to check the body; v.seed_signature + v.signing_key seed aws-chunked
//! ```
//!
//! Every error is a [`SigV4Error`]; `S3Error::from` gives the code, status and
//! message AWS would answer with.
//!
//! Files:
//! - [`limits`]: every constant of the module.
//! - [`error`]: [`SigV4Error`] and its mapping to S3 errors.
//! - [`detect`](mod@detect): [`AuthInput`], [`AuthKind`], [`detect()`].
//! - [`authorization`] / [`presigned`]: parsing the header / the query.
//! - [`credential`]: the credential scope.
//! - [`signed_headers`]: the SignedHeaders list.
//! - [`split`]: splitting on plain or percent-encoded separators.
//! - [`payload`]: `x-amz-content-sha256` values.
//! - [`header_scan`]: one pass over the request headers (signed names, `x-amz-*`).
//! - [`hex_digest`]: hex digests (signatures, payload hashes) decoded and encoded.
//! - [`canonical`]: canonical request, [`uri_encode`].
//! - [`signing_key`]: key derivation and the per-core cache.
//! - [`scratch`]: per-core buffers.
//! - [`verify`](mod@verify): [`verify()`], [`Verified`].
//! - [`string_to_sign`]: the string to sign and the signature over it.
//! - [`sign`]: outbound [`sign_headers`].
//!
//! # Security
//! - Secrets are only read to derive signing keys; nothing secret is logged,
//!   formatted or put in an error. Derived keys are zeroized when dropped.
//! - Signatures are compared in constant time on their decoded bytes.
//!
//! # Invariants
//! - Verifying a request allocates nothing once the per-core scratch buffers
//!   and key cache are warm (`tests/sigv4_alloc.rs`).
//! - Any byte sequence gets an answer: parsers never panic (fuzzed by
//!   `fuzz/fuzz_targets/sigv4_auth.rs` and `sigv4_presigned.rs`).

pub mod authorization;
pub mod canonical;
pub mod chunk_signature;
pub mod credential;
pub mod detect;
pub mod error;
pub mod header_scan;
pub mod hex_digest;
pub mod limits;
pub mod payload;
pub mod presigned;
pub mod scratch;
pub mod sign;
pub mod signed_headers;
pub mod signing_key;
pub mod split;
pub mod string_to_sign;
pub mod verify;

pub use authorization::AuthorizationV4;
pub use canonical::uri_encode;
pub use chunk_signature::{ChunkSigner, SignatureMismatch};
pub use credential::Credential;
pub use detect::{AuthInput, AuthKind, detect};
pub use error::{Malformed, RegionMismatch, SigV4Error};
pub use payload::{
    EMPTY_SHA256_HEX, PayloadHash, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER,
    UNSIGNED_PAYLOAD,
};
pub use presigned::PresignedV4;
pub use scratch::SigV4Scratch;
pub use sign::{OutboundRequest, sign_headers};
pub use signed_headers::SignedHeaders;
pub use signing_key::{SigningKeyCache, derive_signing_key};
pub use verify::{Verified, VerifyCtx, verify};
