//! Incremental decoder of `Content-Encoding: aws-chunked` request bodies:
//! signed chunks, signed chunks with signed trailers, and unsigned chunks with
//! trailers.
//!
//! Specs: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>
//! and the `STREAMING-UNSIGNED-PAYLOAD-TRAILER` value of
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html>.
//!
//! The body is already delimited by `Content-Length`; the decoder sees its raw
//! bytes, with this grammar (every line ends with CRLF):
//!
//! ```text
//! signed modes:   hex-size ";chunk-signature=" 64-hex CRLF  data CRLF   (repeated, the last size is 0, no data)
//! unsigned mode:  hex-size [";" ignored-extensions] CRLF      data CRLF   (idem)
//! then:           *(trailer-name ":" value CRLF)  CRLF
//! ```
//!
//! The final zero-size chunk ends with its own CRLF, then the trailer section
//! follows (empty without trailers). With `...-PAYLOAD-TRAILER` the trailer
//! section must carry `x-amz-trailer-signature:<64 hex>`, which signs the
//! other trailers (`sigv4::chunk_signature`). [`AwsChunkedDecoder::decode`]
//! takes whatever bytes have arrived and appends the data bytes to `out`;
//! partial input is a normal state.
//!
//! # Security
//! - Data bytes are emitted as they arrive and a chunk's signature is checked
//!   when its last byte has arrived, so up to [`MAX_AWS_CHUNK_SIZE`] bytes are
//!   handed out before they are known to be authentic. The caller must not
//!   complete the backend request before [`AwsChunkedDecoder::is_done`]: it
//!   withholds the final bytes (the backend request has
//!   `x-amz-decoded-content-length` bytes, so it stays incomplete).
//! - Every chunk, the final empty one included, must carry a signature in the
//!   signed modes; the signer is poisoned by the first mismatch and every
//!   error is sticky (later calls return it again).
//! - Only trailers declared in `x-amz-trailer` are accepted, each at most
//!   once, and every declared one must arrive.
//! - Line endings must be CRLF: a bare LF is refused (request smuggling defence).
//!
//! # Invariants
//! - Memory does not depend on the body or chunk sizes: one line buffer of at
//!   most [`MAX_CHUNK_LINE`] / [`MAX_AWS_TRAILER_BYTES`] bytes, at most
//!   [`MAX_AWS_TRAILER_FIELDS`] captured trailers, one running SHA-256.
//!   Nothing is allocated per chunk.
//! - `out` never grows past its capacity; the decoded length never exceeds
//!   `x-amz-decoded-content-length` (refused at the size line that would
//!   exceed it, before any of that chunk's data is emitted).
//!
//! # Errors as AWS answers them
//! Malformed framing is `IncompleteBody` ("The request body terminated
//! unexpectedly"), what S3 answers for any malformed aws-chunked encoding;
//! signatures are `SignatureDoesNotMatch`; trailer problems are
//! `MalformedTrailerError` in AWS (mapped to `InvalidRequest` until the code
//! exists); a chunk above [`MAX_AWS_CHUNK_SIZE`] has no AWS equivalent and is
//! `InvalidRequest` (AWS's nearest is `InvalidChunkSizeError`). AWS also
//! refuses non-final signed chunks under 8 KiB; sluice does not (any size
//! is authenticated the same way).

use memchr::memchr2;
use sha2::{Digest, Sha256};

use super::limits::MAX_CHUNK_LINE;
use crate::error::{S3Error, S3ErrorCode};
use crate::sigv4::PayloadHash;
use crate::sigv4::chunk_signature::{ChunkSigner, EMPTY_SHA256};

/// Largest chunk accepted. SDKs send 64 KiB (Java, Go, Rust, JS) to 1 MiB
/// (botocore) chunks; 16 MiB leaves room for any client while bounding how
/// much data is forwarded before its chunk signature is checked.
pub const MAX_AWS_CHUNK_SIZE: u64 = 16 * 1024 * 1024;

/// Longest trailer section (field lines, the signature line and CRLFs). A
/// checksum trailer is under 80 bytes and the signature line 90: 4 KiB
/// leaves room for every declared trailer a client may send.
pub const MAX_AWS_TRAILER_BYTES: usize = 4 * 1024;

/// Most trailer fields kept (the signature not counted). S3 accepts one
/// checksum per request; a few more are tolerated if declared.
pub const MAX_AWS_TRAILER_FIELDS: usize = 8;

/// Most hex digits of a chunk size: 16 digits are any `u64`, so parsing never
/// overflows (the value is then checked against [`MAX_AWS_CHUNK_SIZE`]).
const MAX_SIZE_DIGITS: usize = 16;

/// Initial capacity of the line buffer: a signed size line is at most
/// 16 + 17 + 64 = 97 bytes, so it is never reallocated for chunk lines.
const LINE_INITIAL_CAPACITY: usize = 128;

/// The chunk extension carrying a chunk signature.
const CHUNK_SIGNATURE_EXT: &[u8] = b";chunk-signature=";

/// The trailer carrying the trailer signature.
const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

/// Length of a hex signature.
const SIGNATURE_HEX_LEN: usize = 64;

/// The three aws-chunked encodings, from `x-amz-content-sha256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsChunkedMode {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: signed chunks, no trailer.
    Signed,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks, signed trailers.
    SignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: plain chunks, unsigned trailers.
    UnsignedTrailer,
}

impl AwsChunkedMode {
    /// The mode of an `x-amz-content-sha256` value, if it is an aws-chunked one.
    pub fn from_payload(payload: PayloadHash) -> Option<AwsChunkedMode> {
        match payload {
            PayloadHash::StreamingSigned => Some(AwsChunkedMode::Signed),
            PayloadHash::StreamingSignedTrailer => Some(AwsChunkedMode::SignedTrailer),
            PayloadHash::StreamingUnsignedTrailer => Some(AwsChunkedMode::UnsignedTrailer),
            PayloadHash::Unsigned | PayloadHash::Sha256(_) => None,
        }
    }

    /// Whether chunks carry signatures.
    pub fn is_signed(self) -> bool {
        matches!(self, AwsChunkedMode::Signed | AwsChunkedMode::SignedTrailer)
    }

    /// Whether trailers may follow the last chunk.
    pub fn has_trailer(self) -> bool {
        matches!(self, AwsChunkedMode::SignedTrailer | AwsChunkedMode::UnsignedTrailer)
    }
}

/// Why an aws-chunked body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsChunkedError {
    /// A size line that is not `hex[;chunk-signature=<64 hex>]` (empty, not
    /// hex, more than 16 digits, a bad signature field) or is too long.
    BadChunkLine,
    /// A CRLF was expected (bare LF, or no CRLF after the data).
    BadLineEnding,
    /// A chunk larger than [`MAX_AWS_CHUNK_SIZE`].
    ChunkTooLarge,
    /// A chunk without `;chunk-signature=` in a signed mode.
    MissingChunkSignature,
    /// A chunk whose signature does not match its data and the chain.
    ChunkSignatureMismatch,
    /// A trailer line that is not `name:value`, a duplicate, or a trailer
    /// section over [`MAX_AWS_TRAILER_BYTES`] / [`MAX_AWS_TRAILER_FIELDS`].
    MalformedTrailer,
    /// A trailer not declared by `x-amz-trailer` (or any trailer in `Signed` mode).
    UndeclaredTrailer,
    /// A trailer declared by `x-amz-trailer` did not arrive.
    MissingTrailer,
    /// No `x-amz-trailer-signature` in `SignedTrailer` mode.
    MissingTrailerSignature,
    /// The trailer signature does not match.
    TrailerSignatureMismatch,
    /// The data is longer or shorter than `x-amz-decoded-content-length`.
    DecodedLengthMismatch,
    /// The body ended before the final chunk and trailers (see [`AwsChunkedDecoder::finish`]).
    Truncated,
}

/// AWS's message for a malformed aws-chunked body.
const INCOMPLETE_BODY_MESSAGE: &str = "The request body terminated unexpectedly";

/// AWS's message of `MalformedTrailerError`.
const MALFORMED_TRAILER_MESSAGE: &str = "The request contained trailing data that was not well-formed or did not conform to our published schema.";

impl From<AwsChunkedError> for S3Error {
    fn from(e: AwsChunkedError) -> S3Error {
        use AwsChunkedError as E;
        use S3ErrorCode as C;
        match e {
            E::BadChunkLine | E::BadLineEnding | E::Truncated => {
                S3Error::with_message(C::IncompleteBody, INCOMPLETE_BODY_MESSAGE)
            }
            E::DecodedLengthMismatch => S3Error::with_message(
                C::IncompleteBody,
                "The decoded body length does not match x-amz-decoded-content-length.",
            ),
            E::ChunkTooLarge => S3Error::with_message(
                C::InvalidChunkSizeError,
                "An aws-chunked chunk exceeds the maximum chunk size of 16 MiB.",
            ),
            E::MissingChunkSignature
            | E::ChunkSignatureMismatch
            | E::MissingTrailerSignature
            | E::TrailerSignatureMismatch => S3Error::new(C::SignatureDoesNotMatch),
            E::MalformedTrailer | E::UndeclaredTrailer | E::MissingTrailer => {
                S3Error::with_message(C::MalformedTrailerError, MALFORMED_TRAILER_MESSAGE)
            }
        }
    }
}

/// The names listed in an `x-amz-trailer` header value (comma-separated).
pub fn declared_trailers(header_value: &str) -> impl Iterator<Item = &str> {
    header_value.split(',').map(|s| s.trim_matches([' ', '\t'])).filter(|s| !s.is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting a chunk-size line into `line`.
    SizeLine,
    /// The CR of a size line was read; LF expected.
    SizeLineLf,
    /// Copying data; bytes left in this chunk.
    Data(u64),
    DataCr,
    DataLf,
    /// Collecting a trailer line (or the final empty line) into `line`.
    TrailerLine,
    TrailerLineLf,
    Done,
    Failed(AwsChunkedError),
}

/// Decoder state for one aws-chunked body.
#[derive(Debug)]
pub struct AwsChunkedDecoder {
    mode: AwsChunkedMode,
    /// The signature chain (signed modes; `None` there fails every chunk).
    signer: Option<ChunkSigner>,
    state: State,
    /// The size or trailer line being collected, without its CRLF.
    line: Vec<u8>,
    /// The hex signature of the chunk being read (signed modes).
    chunk_signature: [u8; SIGNATURE_HEX_LEN],
    /// SHA-256 of the chunk's data so far (signed modes).
    hasher: Sha256,
    /// `x-amz-decoded-content-length`.
    decoded_len: u64,
    /// Data bytes emitted so far.
    decoded: u64,
    /// Declared trailer names, lowercase.
    expected: Vec<String>,
    /// Trailers received (lowercase name, trimmed value), sorted by name once done.
    trailers: Vec<(String, String)>,
    /// Bytes of the trailer section so far.
    trailer_bytes: usize,
    /// The hex `x-amz-trailer-signature` value.
    trailer_signature: Option<[u8; SIGNATURE_HEX_LEN]>,
}

impl AwsChunkedDecoder {
    /// A decoder for a body of `mode`. `signer` is the request's chain (see
    /// `ChunkSigner::new`), required by the signed modes; `decoded_len` is
    /// `x-amz-decoded-content-length`; `expected_trailers` the names of
    /// `x-amz-trailer` (any case; see [`declared_trailers`]).
    pub fn new(
        mode: AwsChunkedMode,
        signer: Option<ChunkSigner>,
        decoded_len: u64,
        expected_trailers: &[&str],
    ) -> AwsChunkedDecoder {
        AwsChunkedDecoder {
            mode,
            signer,
            state: State::SizeLine,
            line: Vec::with_capacity(LINE_INITIAL_CAPACITY),
            chunk_signature: [0; SIGNATURE_HEX_LEN],
            hasher: Sha256::new(),
            decoded_len,
            decoded: 0,
            expected: expected_trailers
                .iter()
                .map(|n| n.trim().to_ascii_lowercase())
                // The signature is not a trailer to deliver; declaring it changes nothing.
                .filter(|n| n != TRAILER_SIGNATURE)
                .collect(),
            trailers: Vec::new(),
            trailer_bytes: 0,
            trailer_signature: None,
        }
    }

    pub fn mode(&self) -> AwsChunkedMode {
        self.mode
    }

    /// Whether the final chunk and the trailer section have been read and verified.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Data bytes emitted so far.
    pub fn decoded_so_far(&self) -> u64 {
        self.decoded
    }

    /// The trailers received, `(lowercase name, trimmed value)`, sorted by
    /// name once the body is done. Never holds `x-amz-trailer-signature`.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// The value of the trailer `name` (lowercase), if received.
    pub fn trailer(&self, name: &str) -> Option<&str> {
        self.trailers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// To call when the body (its `Content-Length` bytes) has all been fed:
    /// `Ok` only if the decoder is done; the error that stopped it, or
    /// `Truncated`, otherwise. Bytes after the end (`decode` leaves them
    /// unconsumed) are the caller's to refuse.
    pub fn finish(&self) -> Result<(), AwsChunkedError> {
        match self.state {
            State::Done => Ok(()),
            State::Failed(e) => Err(e),
            _ => Err(AwsChunkedError::Truncated),
        }
    }

    /// Decodes from `input`, appending data bytes to `out` without growing it
    /// past its capacity. Returns how many input bytes were consumed; stops
    /// early when `out` is full or the body is done. An error is final: later
    /// calls return it again.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, AwsChunkedError> {
        if let State::Failed(e) = self.state {
            return Err(e);
        }
        self.run(input, out).inspect_err(|&e| self.state = State::Failed(e))
    }

    fn run(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, AwsChunkedError> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::SizeLine | State::TrailerLine => {
                    let rest = &input[i..];
                    let end = memchr2(b'\r', b'\n', rest);
                    let take = end.unwrap_or(rest.len());
                    self.collect(&rest[..take])?;
                    i += take;
                    if let Some(end) = end {
                        if rest[end] == b'\n' {
                            return Err(AwsChunkedError::BadLineEnding);
                        }
                        self.state = if self.state == State::SizeLine {
                            State::SizeLineLf
                        } else {
                            State::TrailerLineLf
                        };
                        i += 1;
                    }
                }
                State::SizeLineLf => {
                    expect(input[i], b'\n')?;
                    i += 1;
                    self.end_size_line()?;
                }
                State::TrailerLineLf => {
                    expect(input[i], b'\n')?;
                    i += 1;
                    self.end_trailer_line()?;
                    if self.state == State::Done {
                        return Ok(i);
                    }
                }
                State::Data(left) => {
                    let room = out.capacity() - out.len();
                    if room == 0 {
                        return Ok(i);
                    }
                    // `n` fits in usize: it is at most the input length.
                    let n = (left.min((input.len() - i) as u64) as usize).min(room);
                    let data = &input[i..i + n];
                    if self.mode.is_signed() {
                        self.hasher.update(data);
                    }
                    out.extend_from_slice(data);
                    i += n;
                    self.decoded += n as u64;
                    let left = left - n as u64;
                    if left == 0 {
                        self.end_chunk_data()?;
                        self.state = State::DataCr;
                    } else {
                        self.state = State::Data(left);
                    }
                }
                State::DataCr => {
                    expect(input[i], b'\r')?;
                    self.state = State::DataLf;
                    i += 1;
                }
                State::DataLf => {
                    expect(input[i], b'\n')?;
                    self.state = State::SizeLine;
                    i += 1;
                }
                State::Done => return Ok(i),
                State::Failed(e) => return Err(e),
            }
        }
        Ok(i)
    }

    /// Appends bytes of the current line, within its limit.
    fn collect(&mut self, bytes: &[u8]) -> Result<(), AwsChunkedError> {
        if self.state == State::SizeLine {
            if self.line.len() + bytes.len() > MAX_CHUNK_LINE {
                return Err(AwsChunkedError::BadChunkLine);
            }
        } else {
            self.bump_trailer(bytes.len())?;
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn bump_trailer(&mut self, n: usize) -> Result<(), AwsChunkedError> {
        self.trailer_bytes += n;
        if self.trailer_bytes > MAX_AWS_TRAILER_BYTES {
            Err(AwsChunkedError::MalformedTrailer)
        } else {
            Ok(())
        }
    }

    /// A complete size line is in `line`: parse it and start the chunk.
    fn end_size_line(&mut self) -> Result<(), AwsChunkedError> {
        let line = &self.line[..];
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 || digits > MAX_SIZE_DIGITS {
            return Err(AwsChunkedError::BadChunkLine);
        }
        // At most 16 hex digits: fits in a u64.
        let size = line[..digits].iter().fold(0u64, |acc, &b| (acc << 4) | u64::from(hex_value(b)));
        let rest = &line[digits..];
        if self.mode.is_signed() {
            let Some(sig) = rest.strip_prefix(CHUNK_SIGNATURE_EXT) else {
                return Err(if rest.is_empty() || rest[0] == b';' {
                    AwsChunkedError::MissingChunkSignature
                } else {
                    AwsChunkedError::BadChunkLine
                });
            };
            if sig.len() != SIGNATURE_HEX_LEN || !sig.iter().all(u8::is_ascii_hexdigit) {
                return Err(AwsChunkedError::BadChunkLine);
            }
            self.chunk_signature.copy_from_slice(sig);
        } else if rest.first().is_some_and(|&b| b != b';') {
            // Unsigned chunks may carry extensions; they are ignored.
            return Err(AwsChunkedError::BadChunkLine);
        }
        self.line.clear();
        if size > MAX_AWS_CHUNK_SIZE {
            return Err(AwsChunkedError::ChunkTooLarge);
        }
        // `decoded <= decoded_len` holds: every chunk is checked here first.
        if size > self.decoded_len - self.decoded {
            return Err(AwsChunkedError::DecodedLengthMismatch);
        }
        if size > 0 {
            self.state = State::Data(size);
            return Ok(());
        }
        // The final chunk.
        if self.decoded != self.decoded_len {
            return Err(AwsChunkedError::DecodedLengthMismatch);
        }
        self.verify_chunk(&EMPTY_SHA256)?;
        self.state = State::TrailerLine;
        Ok(())
    }

    /// The last data byte of a chunk arrived: check its signature.
    fn end_chunk_data(&mut self) -> Result<(), AwsChunkedError> {
        if self.mode.is_signed() {
            let digest: [u8; 32] = self.hasher.finalize_reset().into();
            self.verify_chunk(&digest)?;
        }
        Ok(())
    }

    fn verify_chunk(&mut self, digest: &[u8; 32]) -> Result<(), AwsChunkedError> {
        if !self.mode.is_signed() {
            return Ok(());
        }
        match &mut self.signer {
            Some(signer) => signer
                .verify_chunk(digest, &self.chunk_signature)
                .map_err(|_| AwsChunkedError::ChunkSignatureMismatch),
            None => Err(AwsChunkedError::ChunkSignatureMismatch),
        }
    }

    /// A complete trailer line (or the final empty line) is in `line`.
    fn end_trailer_line(&mut self) -> Result<(), AwsChunkedError> {
        self.bump_trailer(2)?;
        if self.line.is_empty() {
            self.end_trailers()?;
            self.state = State::Done;
            return Ok(());
        }
        self.trailer_field()?;
        self.line.clear();
        self.state = State::TrailerLine;
        Ok(())
    }

    /// Parses and stores the trailer field in `line`.
    fn trailer_field(&mut self) -> Result<(), AwsChunkedError> {
        let line = &self.line[..];
        let colon = line.iter().position(|&b| b == b':').ok_or(AwsChunkedError::MalformedTrailer)?;
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(AwsChunkedError::MalformedTrailer);
        }
        if !value.iter().all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)) {
            return Err(AwsChunkedError::MalformedTrailer);
        }
        if !self.mode.has_trailer() {
            return Err(AwsChunkedError::UndeclaredTrailer);
        }
        if name.eq_ignore_ascii_case(TRAILER_SIGNATURE.as_bytes()) {
            if self.mode != AwsChunkedMode::SignedTrailer {
                return Err(AwsChunkedError::UndeclaredTrailer);
            }
            if self.trailer_signature.is_some()
                || value.len() != SIGNATURE_HEX_LEN
                || !value.iter().all(u8::is_ascii_hexdigit)
            {
                return Err(AwsChunkedError::MalformedTrailer);
            }
            let mut sig = [0; SIGNATURE_HEX_LEN];
            sig.copy_from_slice(value);
            self.trailer_signature = Some(sig);
            return Ok(());
        }
        if !self.expected.iter().any(|e| e.as_bytes().eq_ignore_ascii_case(name)) {
            return Err(AwsChunkedError::UndeclaredTrailer);
        }
        if self.trailers.iter().any(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            || self.trailers.len() >= MAX_AWS_TRAILER_FIELDS
        {
            return Err(AwsChunkedError::MalformedTrailer);
        }
        // Both are printable ASCII (checked above), hence UTF-8.
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let value = collapse_spaces(value);
        self.trailers.push((name, value));
        Ok(())
    }

    /// The trailer section ended: check the trailer signature and that every
    /// declared trailer arrived.
    fn end_trailers(&mut self) -> Result<(), AwsChunkedError> {
        self.trailers.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if self.mode == AwsChunkedMode::SignedTrailer {
            let sig = self.trailer_signature.ok_or(AwsChunkedError::MissingTrailerSignature)?;
            let mut h = Sha256::new();
            for (name, value) in &self.trailers {
                h.update(name.as_bytes());
                h.update(b":");
                h.update(value.as_bytes());
                h.update(b"\n");
            }
            let digest: [u8; 32] = h.finalize().into();
            let signer = self.signer.as_mut().ok_or(AwsChunkedError::TrailerSignatureMismatch)?;
            signer.verify_trailer(&digest, &sig).map_err(|_| AwsChunkedError::TrailerSignatureMismatch)?;
        }
        for name in &self.expected {
            if !self.trailers.iter().any(|(n, _)| n == name) {
                return Err(AwsChunkedError::MissingTrailer);
            }
        }
        Ok(())
    }
}

fn expect(got: u8, want: u8) -> Result<(), AwsChunkedError> {
    if got == want { Ok(()) } else { Err(AwsChunkedError::BadLineEnding) }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// An RFC 9110 token character (header field names).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The value with each run of spaces and tabs replaced by one space, as
/// SigV4 canonicalises header values. `value` is printable ASCII.
fn collapse_spaces(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    let mut space = false;
    for &b in value {
        if b == b' ' || b == b'\t' {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(char::from(b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::integrity::ChecksumAlgorithm;
    use crate::secret::Secret;
    use crate::sigv4::hex_digest::decode_hex_digest;
    use crate::sigv4::{
        AuthInput, SigV4Scratch, SigningKeyCache, VerifyCtx, derive_signing_key, detect, verify,
    };
    use crate::time::parse_amz_date;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const AMZ_DATE: &str = "20130524T000000Z";
    const DATE: &str = "20130524";
    const REGION: &str = "us-east-1";
    /// Seed of the AWS multiple-chunks example.
    const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    /// Seed of the AWS trailer example.
    const TRAILER_SEED: &str = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
    const CRC: &str = "x-amz-checksum-crc32c";

    fn signer(seed_hex: &str) -> ChunkSigner {
        let key = derive_signing_key(&Secret::new(SECRET), DATE, REGION, "s3");
        let seed = decode_hex_digest(seed_hex.as_bytes()).unwrap();
        ChunkSigner::from_parts(&key, AMZ_DATE.as_bytes().try_into().unwrap(), DATE, REGION, &seed)
    }

    fn sha(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    /// A body of `mode` carrying `data` in chunks of `chunk` bytes and `trailers`
    /// (signed with a chain from `seed` in the signed modes).
    fn encode(
        mode: AwsChunkedMode,
        data: &[u8],
        chunk: usize,
        trailers: &[(&str, &str)],
        seed: &str,
    ) -> Vec<u8> {
        let mut s = signer(seed);
        let mut body = Vec::new();
        let mut line = |body: &mut Vec<u8>, piece: &[u8]| {
            body.extend_from_slice(format!("{:x}", piece.len()).as_bytes());
            if mode.is_signed() {
                let sig = s.sign_chunk(&sha(piece));
                body.extend_from_slice(format!(";chunk-signature={}", hex::encode(sig)).as_bytes());
            }
            body.extend_from_slice(b"\r\n");
        };
        for piece in data.chunks(chunk) {
            line(&mut body, piece);
            body.extend_from_slice(piece);
            body.extend_from_slice(b"\r\n");
        }
        line(&mut body, b"");
        let mut canonical = String::new();
        for (name, value) in trailers {
            body.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
            canonical.push_str(&format!("{name}:{value}\n"));
        }
        if mode == AwsChunkedMode::SignedTrailer {
            let sig = s.sign_trailer(&sha(canonical.as_bytes()));
            body.extend_from_slice(format!("{TRAILER_SIGNATURE}:{}\r\n", hex::encode(sig)).as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body
    }

    fn decoder(mode: AwsChunkedMode, decoded_len: usize, expected: &[&str], seed: &str) -> AwsChunkedDecoder {
        AwsChunkedDecoder::new(mode, mode.is_signed().then(|| signer(seed)), decoded_len as u64, expected)
    }

    struct Decoded {
        data: Vec<u8>,
        consumed: usize,
        trailers: Vec<(String, String)>,
    }

    /// Feeds `pieces` in order through `dec` with an output of `cap` bytes.
    fn feed(mut dec: AwsChunkedDecoder, pieces: &[&[u8]], cap: usize) -> Result<Decoded, AwsChunkedError> {
        let (mut data, mut consumed) = (Vec::new(), 0);
        for piece in pieces {
            let mut pos = 0;
            while pos < piece.len() && !dec.is_done() {
                let mut out = Vec::with_capacity(cap);
                let used = dec.decode(&piece[pos..], &mut out)?;
                assert!(out.len() <= cap, "out grew past its capacity");
                assert!(used > 0 || !out.is_empty() || dec.is_done(), "no progress");
                data.extend_from_slice(&out);
                assert_eq!(dec.decoded_so_far(), data.len() as u64);
                pos += used;
            }
            consumed += pos;
            if dec.is_done() {
                break;
            }
        }
        dec.finish()?;
        Ok(Decoded { data, consumed, trailers: dec.trailers().to_vec() })
    }

    fn whole(dec: AwsChunkedDecoder, body: &[u8]) -> Result<Decoded, AwsChunkedError> {
        feed(dec, &[body], 1 << 20)
    }

    fn aws_example_body(sigs: [&str; 3], trailer: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(format!("10000;chunk-signature={}\r\n", sigs[0]).as_bytes());
        body.extend_from_slice(&[b'a'; 65536]);
        body.extend_from_slice(format!("\r\n400;chunk-signature={}\r\n", sigs[1]).as_bytes());
        body.extend_from_slice(&[b'a'; 1024]);
        body.extend_from_slice(format!("\r\n0;chunk-signature={}\r\n", sigs[2]).as_bytes());
        body.extend_from_slice(trailer);
        body.extend_from_slice(b"\r\n");
        body
    }

    const EXAMPLE_SIGS: [&str; 3] = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ];

    const TRAILER_EXAMPLE_SIGS: [&str; 3] = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ];

    const TRAILER_EXAMPLE_TRAILER: &[u8] = b"x-amz-checksum-crc32c:sOO8/Q==\r\n\
        x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n";

    /// The AWS "multiple chunks" example, byte for byte: Content-Length 66824.
    #[test]
    fn aws_multiple_chunks_example() {
        let body = aws_example_body(EXAMPLE_SIGS, b"");
        assert_eq!(body.len(), 66824);
        for (pieces, cap) in
            [(vec![&body[..]], 1 << 20), (body.chunks(4096).collect(), 1000), (vec![&body[..]], 1)]
        {
            let got = feed(decoder(AwsChunkedMode::Signed, 66560, &[], SEED), &pieces, cap).unwrap();
            assert_eq!(got.data, vec![b'a'; 66560]);
            assert_eq!(got.consumed, body.len());
            assert!(got.trailers.is_empty());
        }
    }

    /// The AWS trailer example (the doc's Content-Length is a copy of the
    /// other example's; the body as shown is 66946 bytes).
    #[test]
    fn aws_trailer_example() {
        let body = aws_example_body(TRAILER_EXAMPLE_SIGS, TRAILER_EXAMPLE_TRAILER);
        assert_eq!(body.len(), 66946);
        let got = whole(decoder(AwsChunkedMode::SignedTrailer, 66560, &[CRC], TRAILER_SEED), &body).unwrap();
        assert_eq!(got.data, vec![b'a'; 66560]);
        assert_eq!(got.trailers, vec![(CRC.to_string(), "sOO8/Q==".to_string())]);
        // The trailer is the CRC32C of the data, as integrity.rs computes it.
        let mut crc = ChecksumAlgorithm::Crc32c.hasher();
        crc.update(&got.data);
        use base64::Engine;
        assert_eq!(base64::engine::general_purpose::STANDARD.encode(crc.finish()), "sOO8/Q==");

        let tampered = aws_example_body(
            TRAILER_EXAMPLE_SIGS,
            &TRAILER_EXAMPLE_TRAILER.iter().map(|&b| if b == b'Q' { b'R' } else { b }).collect::<Vec<_>>(),
        );
        let dec = decoder(AwsChunkedMode::SignedTrailer, 66560, &[CRC], TRAILER_SEED);
        assert_eq!(whole(dec, &tampered).err(), Some(AwsChunkedError::TrailerSignatureMismatch));
    }

    /// Both AWS examples end to end: `sigv4::verify` of the documented
    /// request gives the seed; the chain continues through the body.
    #[test]
    fn aws_examples_from_verified_request() {
        let cases = [
            (
                "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
                 x-amz-decoded-content-length;x-amz-storage-class",
                SEED,
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                AwsChunkedMode::Signed,
                aws_example_body(EXAMPLE_SIGS, b""),
            ),
            (
                "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;\
                 x-amz-storage-class;x-amz-trailer",
                TRAILER_SEED,
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                AwsChunkedMode::SignedTrailer,
                aws_example_body(TRAILER_EXAMPLE_SIGS, TRAILER_EXAMPLE_TRAILER),
            ),
        ];
        for (signed, seed, payload, mode, body) in cases {
            let authorization = format!(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
                 SignedHeaders={signed},Signature={seed}"
            );
            let mut headers = vec![
                httparse::Header { name: "Host", value: b"s3.amazonaws.com" },
                httparse::Header { name: "x-amz-date", value: AMZ_DATE.as_bytes() },
                httparse::Header { name: "x-amz-storage-class", value: b"REDUCED_REDUNDANCY" },
                httparse::Header { name: "Authorization", value: authorization.as_bytes() },
                httparse::Header { name: "x-amz-content-sha256", value: payload.as_bytes() },
                httparse::Header { name: "Content-Encoding", value: b"aws-chunked" },
                httparse::Header { name: "x-amz-decoded-content-length", value: b"66560" },
                httparse::Header { name: "Content-Length", value: b"66824" },
            ];
            if mode.has_trailer() {
                headers.push(httparse::Header { name: "x-amz-trailer", value: CRC.as_bytes() });
            }
            let input = AuthInput {
                method: "PUT",
                path: "/examplebucket/chunkObject.txt",
                query: "",
                headers: &headers,
            };
            let auth = detect(&input).unwrap();
            let ctx = VerifyCtx { region: REGION, now: parse_amz_date(AMZ_DATE).unwrap() };
            let (mut scratch, mut cache) = (SigV4Scratch::new(), SigningKeyCache::new());
            let verified =
                verify(&input, &auth, &Secret::new(SECRET), 1, &ctx, &mut scratch, &mut cache).unwrap();
            assert_eq!(AwsChunkedMode::from_payload(verified.payload), Some(mode));
            let expected: Vec<&str> = if mode.has_trailer() {
                declared_trailers(" x-amz-checksum-crc32c ,").collect()
            } else {
                vec![]
            };
            let dec = AwsChunkedDecoder::new(mode, Some(ChunkSigner::new(&verified)), 66560, &expected);
            assert_eq!(whole(dec, &body).unwrap().data.len(), 66560);
        }
    }

    const SMALL: &[u8] = b"The quick brown fox jumps over the lazy dog";

    /// (mode, body with a tail, expected names, seed) of the three small bodies.
    fn small_bodies() -> Vec<(AwsChunkedMode, Vec<u8>, Vec<&'static str>)> {
        let crc = [(CRC, "AAAAAA==")];
        let mut cases = vec![
            (AwsChunkedMode::Signed, encode(AwsChunkedMode::Signed, SMALL, 8, &[], SEED), vec![]),
            (
                AwsChunkedMode::SignedTrailer,
                encode(AwsChunkedMode::SignedTrailer, SMALL, 8, &crc, SEED),
                vec![CRC],
            ),
            (
                AwsChunkedMode::UnsignedTrailer,
                encode(AwsChunkedMode::UnsignedTrailer, SMALL, 8, &crc, SEED),
                vec![CRC],
            ),
        ];
        for (_, body, _) in &mut cases {
            body.extend_from_slice(b"NEXT");
        }
        cases
    }

    #[test]
    fn every_split_point_and_output_size_decodes_the_same() {
        for (mode, body, expected) in small_bodies() {
            let end = body.len() - 4;
            let want_trailers: Vec<(String, String)> =
                if mode.has_trailer() { vec![(CRC.to_string(), "AAAAAA==".to_string())] } else { vec![] };
            let check = |pieces: &[&[u8]], cap: usize| {
                let got = feed(decoder(mode, SMALL.len(), &expected, SEED), pieces, cap)
                    .unwrap_or_else(|e| panic!("{mode:?} cap {cap}: {e:?}"));
                assert_eq!(got.data, SMALL, "{mode:?} cap {cap}");
                assert_eq!(got.consumed, end, "bytes after the body are left alone");
                assert_eq!(got.trailers, want_trailers);
            };
            for cap in [1, 3, 64] {
                for split in 0..=body.len() {
                    check(&[&body[..split], &body[split..]], cap);
                }
                for step in 1..body.len() {
                    check(&body.chunks(step).collect::<Vec<_>>(), cap);
                }
            }
        }
    }

    #[test]
    fn several_trailers_are_signed_in_name_order() {
        let trailers = [("x-amz-checksum-crc32", "AAAAAA=="), ("x-amz-checksum-crc32c", "BBBBBB==")];
        let body = encode(AwsChunkedMode::SignedTrailer, SMALL, 16, &trailers, SEED);
        let names = ["X-Amz-Checksum-CRC32C", "x-amz-checksum-crc32"];
        let got = whole(decoder(AwsChunkedMode::SignedTrailer, SMALL.len(), &names, SEED), &body).unwrap();
        assert_eq!(got.trailers[0], ("x-amz-checksum-crc32".to_string(), "AAAAAA==".to_string()));
        assert_eq!(got.trailers[1].0, "x-amz-checksum-crc32c");
        // the same trailers sent in the other order carry the same signature
        let swapped = [trailers[1], trailers[0]];
        let body = encode(AwsChunkedMode::UnsignedTrailer, SMALL, 16, &swapped, SEED);
        assert!(whole(decoder(AwsChunkedMode::UnsignedTrailer, SMALL.len(), &names, SEED), &body).is_ok());
        let text = text(&encode(AwsChunkedMode::SignedTrailer, SMALL, 16, &trailers, SEED));
        let a = "x-amz-checksum-crc32:AAAAAA==\r\n";
        let b = "x-amz-checksum-crc32c:BBBBBB==\r\n";
        let swapped = text.replace(&format!("{a}{b}"), &format!("{b}{a}"));
        assert_ne!(swapped, text);
        let dec = decoder(AwsChunkedMode::SignedTrailer, SMALL.len(), &names, SEED);
        assert!(whole(dec, swapped.as_bytes()).is_ok());
        // spaces around a value are not part of it
        let spaced = text.replace("crc32:AAAAAA==", "crc32: \tAAAAAA==  ");
        let dec = decoder(AwsChunkedMode::SignedTrailer, SMALL.len(), &names, SEED);
        assert!(whole(dec, spaced.as_bytes()).is_ok());
    }

    /// Decodes `body` whole in `mode` and returns the error.
    fn refuse(mode: AwsChunkedMode, body: &[u8], decoded_len: usize, expected: &[&str]) -> AwsChunkedError {
        whole(decoder(mode, decoded_len, expected, SEED), body).err().expect("must be refused")
    }

    fn text(body: &[u8]) -> String {
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[test]
    fn bad_signatures_are_refused() {
        use AwsChunkedMode::*;
        let body = encode(Signed, SMALL, 8, &[], SEED);
        let n = SMALL.len();
        // a tampered data byte
        let tampered = text(&body).replacen("brown", "crown", 1);
        assert_ne!(tampered.as_bytes(), body);
        assert_eq!(refuse(Signed, tampered.as_bytes(), n, &[]), AwsChunkedError::ChunkSignatureMismatch);
        // a tampered signature (first hex digit of the second chunk's)
        let mut t = body.clone();
        let at = text(&body).match_indices("chunk-signature=").nth(1).unwrap().0 + 16;
        t[at] = if t[at] == b'0' { b'1' } else { b'0' };
        assert_eq!(refuse(Signed, &t, n, &[]), AwsChunkedError::ChunkSignatureMismatch);
        // a missing signature, on a data chunk and on the final chunk
        let first_line_end = body.iter().position(|&b| b == b'\r').unwrap();
        let missing = [b"8".as_slice(), &body[first_line_end..]].concat();
        assert_eq!(refuse(Signed, &missing, n, &[]), AwsChunkedError::MissingChunkSignature);
        let other_ext = [b"8;foo=bar".as_slice(), &body[first_line_end..]].concat();
        assert_eq!(refuse(Signed, &other_ext, n, &[]), AwsChunkedError::MissingChunkSignature);
        let mut unsigned_final = encode(Signed, SMALL, 8, &[], SEED);
        let last = unsigned_final.windows(2).rposition(|w| w == b"0;").unwrap();
        unsigned_final.truncate(last);
        unsigned_final.extend_from_slice(b"0\r\n\r\n");
        assert_eq!(refuse(Signed, &unsigned_final, n, &[]), AwsChunkedError::MissingChunkSignature);
        // short / long / non-hex signatures are malformed lines
        for bad in ["abc", &"a".repeat(65), &"g".repeat(64)] {
            let line = format!("8;chunk-signature={bad}\r\n");
            assert_eq!(refuse(Signed, line.as_bytes(), n, &[]), AwsChunkedError::BadChunkLine, "{bad}");
        }
        // a signature from another chain (another seed)
        let other = encode(Signed, SMALL, 8, &[], TRAILER_SEED);
        assert_eq!(refuse(Signed, &other, n, &[]), AwsChunkedError::ChunkSignatureMismatch);
        // signed mode without a signer fails closed
        let dec = AwsChunkedDecoder::new(Signed, None, n as u64, &[]);
        assert_eq!(whole(dec, &body).err(), Some(AwsChunkedError::ChunkSignatureMismatch));
    }

    #[test]
    fn bad_trailers_are_refused() {
        use AwsChunkedMode::*;
        let n = SMALL.len();
        let crc = [(CRC, "AAAAAA==")];
        // wrong trailer signature: trailers signed by another chain
        let body = text(&encode(SignedTrailer, SMALL, 8, &crc, SEED));
        let forged = text(&encode(SignedTrailer, SMALL, 8, &crc, TRAILER_SEED));
        let (data_part, _) = body.split_at(body.rfind("x-amz-trailer-signature").unwrap());
        let (_, forged_sig) = forged.split_at(forged.rfind("x-amz-trailer-signature").unwrap());
        let mixed = format!("{data_part}{forged_sig}");
        assert_eq!(
            refuse(SignedTrailer, mixed.as_bytes(), n, &[CRC]),
            AwsChunkedError::TrailerSignatureMismatch
        );
        // a changed trailer value under the original signature
        let changed = body.replace("AAAAAA==", "AAAAAB==");
        assert_eq!(
            refuse(SignedTrailer, changed.as_bytes(), n, &[CRC]),
            AwsChunkedError::TrailerSignatureMismatch
        );
        // no trailer signature
        let (without, _) = body.split_at(body.rfind("x-amz-trailer-signature").unwrap());
        let without = format!("{without}\r\n");
        assert_eq!(
            refuse(SignedTrailer, without.as_bytes(), n, &[CRC]),
            AwsChunkedError::MissingTrailerSignature
        );
        // two trailer signatures
        let sig_line = &body[body.rfind("x-amz-trailer-signature").unwrap()..body.len() - 2];
        let twice = format!("{}{sig_line}\r\n", &body[..body.len() - 2]);
        assert_eq!(refuse(SignedTrailer, twice.as_bytes(), n, &[CRC]), AwsChunkedError::MalformedTrailer);

        // undeclared trailer (unsigned, signed, and any trailer in Signed mode)
        let extra = encode(UnsignedTrailer, SMALL, 8, &[(CRC, "AAAAAA=="), ("x-amz-meta-a", "b")], SEED);
        assert_eq!(refuse(UnsignedTrailer, &extra, n, &[CRC]), AwsChunkedError::UndeclaredTrailer);
        let other = encode(UnsignedTrailer, SMALL, 8, &[("x-amz-checksum-sha1", "AAAA")], SEED);
        assert_eq!(refuse(UnsignedTrailer, &other, n, &[CRC]), AwsChunkedError::UndeclaredTrailer);
        let signed_extra = encode(SignedTrailer, SMALL, 8, &[(CRC, "A"), ("x-amz-meta-a", "b")], SEED);
        assert_eq!(refuse(SignedTrailer, &signed_extra, n, &[CRC]), AwsChunkedError::UndeclaredTrailer);
        let in_signed = text(&encode(Signed, SMALL, 8, &[], SEED));
        let in_signed = format!("{}{CRC}:AAAAAA==\r\n\r\n", &in_signed[..in_signed.len() - 2]);
        assert_eq!(refuse(Signed, in_signed.as_bytes(), n, &[CRC]), AwsChunkedError::UndeclaredTrailer);
        let sig_in_unsigned =
            encode(UnsignedTrailer, SMALL, 8, &[(CRC, "A"), (TRAILER_SIGNATURE, "00")], SEED);
        assert_eq!(refuse(UnsignedTrailer, &sig_in_unsigned, n, &[CRC]), AwsChunkedError::UndeclaredTrailer);

        // missing declared trailer
        let none = encode(UnsignedTrailer, SMALL, 8, &[], SEED);
        assert_eq!(refuse(UnsignedTrailer, &none, n, &[CRC]), AwsChunkedError::MissingTrailer);
        let signed_none = encode(SignedTrailer, SMALL, 8, &[], SEED);
        assert_eq!(refuse(SignedTrailer, &signed_none, n, &[CRC]), AwsChunkedError::MissingTrailer);
        let one_of_two = encode(UnsignedTrailer, SMALL, 8, &crc, SEED);
        assert_eq!(
            refuse(UnsignedTrailer, &one_of_two, n, &[CRC, "x-amz-checksum-sha1"]),
            AwsChunkedError::MissingTrailer
        );
        let sig_declared = encode(SignedTrailer, SMALL, 8, &crc, SEED);
        let dec = decoder(SignedTrailer, n, &[CRC, "X-Amz-Trailer-Signature"], SEED);
        assert!(whole(dec, &sig_declared).is_ok());
        let declared_in_signed = encode(Signed, SMALL, 8, &[], SEED);
        assert_eq!(refuse(Signed, &declared_in_signed, n, &[CRC]), AwsChunkedError::MissingTrailer);

        // malformed lines, duplicates, too many bytes
        for bad in [
            "no-colon",
            ":value",
            "x-amz-checksum crc32c:A",
            "x-amz-checksum-crc32c:\u{7f}",
            "x-amz-checksum-crc32c:\u{e9}",
        ] {
            let base = text(&encode(UnsignedTrailer, SMALL, 8, &[], SEED));
            let body = format!("{}{bad}\r\n\r\n", &base[..base.len() - 2]);
            assert_eq!(
                refuse(UnsignedTrailer, body.as_bytes(), n, &[CRC]),
                AwsChunkedError::MalformedTrailer
            );
        }
        let dup = encode(UnsignedTrailer, SMALL, 8, &[(CRC, "A"), (CRC, "A")], SEED);
        assert_eq!(refuse(UnsignedTrailer, &dup, n, &[CRC]), AwsChunkedError::MalformedTrailer);
        let long_value = "A".repeat(MAX_AWS_TRAILER_BYTES);
        let long = encode(UnsignedTrailer, SMALL, 8, &[(CRC, &long_value)], SEED);
        assert_eq!(refuse(UnsignedTrailer, &long, n, &[CRC]), AwsChunkedError::MalformedTrailer);
        let names: Vec<String> = (0..=MAX_AWS_TRAILER_FIELDS).map(|i| format!("x-t{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let fields: Vec<(&str, &str)> = names.iter().map(|&n| (n, "v")).collect();
        let many = encode(UnsignedTrailer, SMALL, 8, &fields, SEED);
        assert_eq!(refuse(UnsignedTrailer, &many, n, &names), AwsChunkedError::MalformedTrailer);
        let at_limit = encode(UnsignedTrailer, SMALL, 8, &fields[1..], SEED);
        assert!(whole(decoder(UnsignedTrailer, n, &names[1..], SEED), &at_limit).is_ok());
    }

    #[test]
    fn bad_framing_is_refused() {
        use AwsChunkedMode::*;
        let n = SMALL.len();
        let u = |s: &str, len: usize| refuse(UnsignedTrailer, s.as_bytes(), len, &[]);
        // oversized chunk header line
        let long = format!("5;{}\r\nhello\r\n0\r\n\r\n", "e".repeat(MAX_CHUNK_LINE));
        assert_eq!(u(&long, 5), AwsChunkedError::BadChunkLine);
        let fits = format!("5;{}\r\nhello\r\n0\r\n\r\n", "e".repeat(MAX_CHUNK_LINE - 2));
        assert!(whole(decoder(UnsignedTrailer, 5, &[], SEED), fits.as_bytes()).is_ok());
        // chunk larger than the limit, and more than 16 digits
        let big = format!("{:x}\r\n", MAX_AWS_CHUNK_SIZE + 1);
        assert_eq!(u(&big, usize::MAX), AwsChunkedError::ChunkTooLarge);
        let at_limit = format!("{:x}\r\nabc", MAX_AWS_CHUNK_SIZE);
        let mut dec = decoder(UnsignedTrailer, usize::MAX, &[], SEED);
        assert_eq!(dec.decode(at_limit.as_bytes(), &mut Vec::with_capacity(8)), Ok(at_limit.len()));
        assert_eq!(u("00000000000000005\r\nhello\r\n0\r\n\r\n", 5), AwsChunkedError::BadChunkLine);
        assert!(
            whole(decoder(UnsignedTrailer, 5, &[], SEED), b"0000000000000005\r\nhello\r\n0\r\n\r\n").is_ok()
        );
        assert_eq!(u("ffffffffffffffff\r\n", usize::MAX), AwsChunkedError::ChunkTooLarge);
        // non-hex and empty sizes
        for bad in ["zz\r\n", "\r\n", " 5\r\nhello", "5 \r\nhello", "-5\r\n", "0x5\r\n"] {
            assert_eq!(u(bad, 5), AwsChunkedError::BadChunkLine, "{bad:?}");
        }
        // bare LF (size line, after data, trailer line, final line) and a missing CRLF after data
        for bad in [
            "5\nhello\r\n0\r\n\r\n",
            "5\r\nhello\n0\r\n\r\n",
            "5\r\nhelloX\r\n0\r\n\r\n",
            "5\r\nhello\rX0\r\n\r\n",
            "5\r\nhello\r\n0\r\nx-a:b\n\r\n",
            "5\r\nhello\r\n0\r\n\n",
            "5\r\r\nhello\r\n0\r\n\r\n",
        ] {
            assert_eq!(u(bad, 5), AwsChunkedError::BadLineEnding, "{bad:?}");
        }
        // decoded length too long (refused at the size line, before its data)
        let body = encode(Signed, SMALL, 8, &[], SEED);
        assert_eq!(refuse(Signed, &body, n - 1, &[]), AwsChunkedError::DecodedLengthMismatch);
        let mut dec = decoder(Signed, 10, &[], SEED);
        let mut out = Vec::with_capacity(64);
        assert_eq!(dec.decode(&body, &mut out), Err(AwsChunkedError::DecodedLengthMismatch));
        assert_eq!(out, &SMALL[..8], "nothing of the chunk that exceeds is emitted");
        // decoded length too short
        assert_eq!(refuse(Signed, &body, n + 1, &[]), AwsChunkedError::DecodedLengthMismatch);
        assert_eq!(u("0\r\n\r\n", 1), AwsChunkedError::DecodedLengthMismatch);
        assert!(whole(decoder(UnsignedTrailer, 0, &[], SEED), b"0\r\n\r\n").is_ok());
    }

    #[test]
    fn truncated_body_is_not_done() {
        for (mode, body, expected) in small_bodies() {
            let body = &body[..body.len() - 4];
            for cut in 0..body.len() {
                let mut dec = decoder(mode, SMALL.len(), &expected, SEED);
                let mut out = Vec::with_capacity(1024);
                assert_eq!(dec.decode(&body[..cut], &mut out), Ok(cut));
                assert!(!dec.is_done());
                assert_eq!(dec.finish(), Err(AwsChunkedError::Truncated));
                assert_eq!(S3Error::from(dec.finish().unwrap_err()).code, S3ErrorCode::IncompleteBody);
            }
        }
    }

    #[test]
    fn errors_are_sticky() {
        let mut dec = decoder(AwsChunkedMode::UnsignedTrailer, 5, &[], SEED);
        let mut out = Vec::with_capacity(8);
        assert_eq!(dec.decode(b"zz\r\n", &mut out), Err(AwsChunkedError::BadChunkLine));
        assert_eq!(dec.decode(b"5\r\nhello\r\n0\r\n\r\n", &mut out), Err(AwsChunkedError::BadChunkLine));
        assert_eq!(dec.finish(), Err(AwsChunkedError::BadChunkLine));
        // a full output buffer is not an error and consumes nothing
        let mut dec = decoder(AwsChunkedMode::UnsignedTrailer, 5, &[], SEED);
        let mut full = Vec::with_capacity(0);
        assert_eq!(dec.decode(b"5\r\nhello", &mut full), Ok(3));
        assert_eq!(dec.decode(b"hello", &mut full), Ok(0));
    }

    #[test]
    fn s3_errors_match_aws() {
        use AwsChunkedError as E;
        use S3ErrorCode as C;
        for (e, code, status) in [
            (E::BadChunkLine, C::IncompleteBody, 400),
            (E::BadLineEnding, C::IncompleteBody, 400),
            (E::Truncated, C::IncompleteBody, 400),
            (E::DecodedLengthMismatch, C::IncompleteBody, 400),
            (E::ChunkTooLarge, C::InvalidChunkSizeError, 400),
            (E::MissingChunkSignature, C::SignatureDoesNotMatch, 403),
            (E::ChunkSignatureMismatch, C::SignatureDoesNotMatch, 403),
            (E::MissingTrailerSignature, C::SignatureDoesNotMatch, 403),
            (E::TrailerSignatureMismatch, C::SignatureDoesNotMatch, 403),
            (E::MalformedTrailer, C::MalformedTrailerError, 400),
            (E::UndeclaredTrailer, C::MalformedTrailerError, 400),
            (E::MissingTrailer, C::MalformedTrailerError, 400),
        ] {
            let s3 = S3Error::from(e);
            assert_eq!((s3.code, s3.status()), (code, status), "{e:?}");
        }
    }

    #[test]
    fn modes_and_declared_names() {
        assert_eq!(AwsChunkedMode::from_payload(PayloadHash::Unsigned), None);
        assert_eq!(
            AwsChunkedMode::from_payload(PayloadHash::StreamingUnsignedTrailer),
            Some(AwsChunkedMode::UnsignedTrailer)
        );
        let names: Vec<&str> = declared_trailers("x-amz-checksum-crc32, ,\tX-Amz-Meta-A ,").collect();
        assert_eq!(names, ["x-amz-checksum-crc32", "X-Amz-Meta-A"]);
        let dec = decoder(AwsChunkedMode::UnsignedTrailer, 0, &names, SEED);
        assert_eq!(dec.mode(), AwsChunkedMode::UnsignedTrailer);
        assert_eq!(dec.trailer("x-amz-checksum-crc32"), None);
        let body =
            encode(AwsChunkedMode::UnsignedTrailer, b"", 8, &[("X-AMZ-META-A", "b"), (CRC, "c")], SEED);
        let mut dec = decoder(AwsChunkedMode::UnsignedTrailer, 0, &names, SEED);
        assert_eq!(
            refuse(AwsChunkedMode::UnsignedTrailer, &body, 0, &names),
            AwsChunkedError::UndeclaredTrailer
        );
        let body = encode(
            AwsChunkedMode::UnsignedTrailer,
            b"",
            8,
            &[("X-AMZ-META-A", "b  c"), (names[0], "d")],
            SEED,
        );
        assert_eq!(dec.decode(&body, &mut Vec::new()), Ok(body.len()));
        assert_eq!(dec.trailer("x-amz-meta-a"), Some("b c"));
        assert_eq!(dec.trailer("x-amz-checksum-crc32"), Some("d"));
    }
}
