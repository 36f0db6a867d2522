//! The parameters of `GET /bucket?...` (ListObjects V1 and ListObjectsV2),
//! parsed from the raw query string.
//!
//! Specs: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html>.
//!
//! # Decisions
//! - `list-type` absent is V1, `list-type=2` is V2, any other value is
//!   `InvalidArgument`.
//! - Names and values are percent-decoded; `+` is a literal `+`, not a space.
//!   AWS SDKs send a space as `%20` and a plus as `%2B` (SigV4 requires it),
//!   and sluice's SigV4 canonical query also takes `+` literally, so a value
//!   means what the client signed. A `%` not followed by two hex digits stays
//!   a literal `%` (as in the canonical query). A value that does not decode to
//!   UTF-8 is `InvalidURI`.
//! - The first occurrence of a parameter wins (as `route::query_value`).
//!   Unknown parameters are ignored; V2-only parameters are ignored in V1 and
//!   `marker` is ignored in V2, as AWS does.
//! - `max-keys`: default 1000; not an integer, negative, or above 2^31 - 1 is
//!   `InvalidArgument`; above 1000 it is clamped to 1000 (AWS never returns
//!   more than 1000 entries). The clamped value is what `MaxKeys` echoes.
//! - An empty `delimiter` means no delimiter (AWS omits `Delimiter` then); an
//!   empty `start-after` or `marker` means none. An empty
//!   `continuation-token` is kept and refused by `token::decode`.
//! - `fetch-owner` (read in V2 only) is `true` or `false` (ASCII case-insensitive);
//!   `encoding-type` is `url` (ASCII case-insensitive); anything else is
//!   `InvalidArgument`.

use std::borrow::Cow;

use crate::error::{S3Error, S3ErrorCode};

use super::token::LastEntry;

/// Most entries one ListObjects answer holds, as in AWS; larger `max-keys`
/// values are clamped to it.
pub const MAX_KEYS_LIMIT: usize = 1000;

/// Largest `max-keys` AWS accepts at all (a 32-bit signed integer).
const MAX_KEYS_ACCEPTED: u64 = i32::MAX as u64;

/// ListObjects (V1) or ListObjectsV2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListVersion {
    V1,
    V2,
}

/// A parsed listing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub version: ListVersion,
    /// `prefix`, `""` when absent.
    pub prefix: String,
    /// `delimiter`, `None` when absent or empty.
    pub delimiter: Option<String>,
    /// `max-keys` after clamping to [`MAX_KEYS_LIMIT`].
    pub max_keys: usize,
    /// `start-after` (V2 only), `None` when absent or empty.
    pub start_after: Option<String>,
    /// `continuation-token` as sent (V2 only); validated by `token::decode`.
    pub continuation_token: Option<String>,
    /// `marker` (V1 only), `None` when absent or empty.
    pub marker: Option<String>,
    /// `fetch-owner=true` (V2 only; V1 always lists owners).
    pub fetch_owner: bool,
    /// `encoding-type=url`.
    pub url_encoding: bool,
}

impl ListRequest {
    /// Parses the raw query string (without the `?`).
    pub fn parse(query: &str) -> Result<ListRequest, S3Error> {
        let raw = RawParams::collect(query)?;
        let version = match raw.list_type.as_deref() {
            None => ListVersion::V1,
            Some("2") => ListVersion::V2,
            Some(_) => return Err(invalid("Invalid List Type specified in Request")),
        };
        let max_keys = match raw.max_keys.as_deref() {
            None => MAX_KEYS_LIMIT,
            Some(v) => parse_max_keys(v)?,
        };
        let v2 = version == ListVersion::V2;
        let fetch_owner = match raw.fetch_owner.as_deref().filter(|_| v2) {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(invalid("fetch-owner must be true or false")),
        };
        let url_encoding = match raw.encoding_type.as_deref() {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("url") => true,
            Some(_) => return Err(invalid("Invalid Encoding Method specified in Request")),
        };
        Ok(ListRequest {
            version,
            prefix: raw.prefix.unwrap_or_default(),
            delimiter: non_empty(raw.delimiter),
            max_keys,
            start_after: if v2 { non_empty(raw.start_after) } else { None },
            continuation_token: if v2 { raw.continuation_token } else { None },
            marker: if v2 { None } else { non_empty(raw.marker) },
            fetch_owner,
            url_encoding,
        })
    }

    /// The exclusive resume point of this request: the entry a decoded
    /// continuation token names, else start-after (V2) or marker (V1), else
    /// `""` (the beginning).
    pub fn resume_point<'a>(&'a self, token: Option<&'a LastEntry>) -> &'a str {
        match (self.version, token) {
            (ListVersion::V2, Some(last)) => &last.name,
            (ListVersion::V2, None) => self.start_after.as_deref().unwrap_or(""),
            (ListVersion::V1, _) => self.marker.as_deref().unwrap_or(""),
        }
    }
}

fn invalid(message: &'static str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, message)
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

/// `max-keys`: ASCII digits only, at most 2^31 - 1, clamped to 1000.
fn parse_max_keys(v: &str) -> Result<usize, S3Error> {
    if v.starts_with('-') && v.len() > 1 && v[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("Argument maxKeys must be an integer between 0 and 2147483647"));
    }
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("Provided max-keys not an integer or within integer range"));
    }
    // Leading zeros are fine; too many digits overflow u64 and are refused.
    let n: u64 =
        v.parse().map_err(|_| invalid("Provided max-keys not an integer or within integer range"))?;
    if n > MAX_KEYS_ACCEPTED {
        return Err(invalid("Provided max-keys not an integer or within integer range"));
    }
    Ok(usize::try_from(n).unwrap_or(MAX_KEYS_LIMIT).min(MAX_KEYS_LIMIT))
}

/// The decoded values of the parameters a listing reads (first occurrence).
#[derive(Default)]
struct RawParams {
    list_type: Option<String>,
    prefix: Option<String>,
    delimiter: Option<String>,
    max_keys: Option<String>,
    start_after: Option<String>,
    continuation_token: Option<String>,
    marker: Option<String>,
    fetch_owner: Option<String>,
    encoding_type: Option<String>,
}

impl RawParams {
    fn collect(query: &str) -> Result<RawParams, S3Error> {
        let mut raw = RawParams::default();
        for piece in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let name = decode(name)?;
            let slot = match name.as_ref() {
                "list-type" => &mut raw.list_type,
                "prefix" => &mut raw.prefix,
                "delimiter" => &mut raw.delimiter,
                "max-keys" => &mut raw.max_keys,
                "start-after" => &mut raw.start_after,
                "continuation-token" => &mut raw.continuation_token,
                "marker" => &mut raw.marker,
                "fetch-owner" => &mut raw.fetch_owner,
                "encoding-type" => &mut raw.encoding_type,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(decode(value)?.into_owned());
            }
        }
        Ok(raw)
    }
}

/// Percent-decodes a query name or value; `+` stays `+`.
fn decode(raw: &str) -> Result<Cow<'_, str>, S3Error> {
    percent_encoding::percent_decode_str(raw).decode_utf8().map_err(|_| S3Error::new(S3ErrorCode::InvalidURI))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::listing::EntryKind;

    fn parse(q: &str) -> ListRequest {
        ListRequest::parse(q).unwrap()
    }

    fn err(q: &str) -> S3Error {
        ListRequest::parse(q).unwrap_err()
    }

    #[test]
    fn defaults() {
        let r = parse("");
        assert_eq!(r.version, ListVersion::V1);
        assert_eq!(r.prefix, "");
        assert_eq!(r.delimiter, None);
        assert_eq!(r.max_keys, 1000);
        assert_eq!((r.start_after, r.continuation_token, r.marker), (None, None, None));
        assert!(!r.fetch_owner && !r.url_encoding);
        let r = parse("list-type=2");
        assert_eq!(r.version, ListVersion::V2);
        assert_eq!(r.max_keys, 1000);
    }

    #[test]
    fn v2_parameters() {
        let r = parse(
            "list-type=2&prefix=photos%2F2006%2F&delimiter=%2F&max-keys=7&start-after=a%20b\
             &continuation-token=tok_-1&fetch-owner=true&encoding-type=url&marker=ignored&x-id=ListObjectsV2",
        );
        assert_eq!(r.prefix, "photos/2006/");
        assert_eq!(r.delimiter.as_deref(), Some("/"));
        assert_eq!(r.max_keys, 7);
        assert_eq!(r.start_after.as_deref(), Some("a b"));
        assert_eq!(r.continuation_token.as_deref(), Some("tok_-1"));
        assert_eq!(r.marker, None);
        assert!(r.fetch_owner && r.url_encoding);
    }

    #[test]
    fn v1_parameters() {
        let r =
            parse("marker=k%C3%A9y&prefix=p&start-after=x&continuation-token=t&fetch-owner=yes&delimiter=");
        assert_eq!(r.version, ListVersion::V1);
        assert_eq!(r.marker.as_deref(), Some("kéy"));
        assert_eq!(r.prefix, "p");
        assert_eq!((r.start_after, r.continuation_token), (None, None));
        assert!(!r.fetch_owner);
        assert_eq!(r.delimiter, None, "an empty delimiter is no delimiter");
    }

    #[test]
    fn plus_is_literal_and_bad_escapes_stay() {
        let r = parse("prefix=a+b%2Bc%20d&delimiter=%zz");
        assert_eq!(r.prefix, "a+b+c d");
        assert_eq!(r.delimiter.as_deref(), Some("%zz"));
        assert_eq!(err("prefix=%FF").code, S3ErrorCode::InvalidURI);
    }

    #[test]
    fn first_occurrence_wins_and_names_decode() {
        let r = parse("prefix=a&prefix=b&max%2Dkeys=3");
        assert_eq!(r.prefix, "a");
        assert_eq!(r.max_keys, 3);
    }

    #[test]
    fn list_type() {
        for q in ["list-type=1", "list-type=3", "list-type=", "list-type=v2"] {
            assert_eq!(err(q).code, S3ErrorCode::InvalidArgument, "{q}");
        }
    }

    #[test]
    fn max_keys() {
        assert_eq!(parse("max-keys=0").max_keys, 0);
        assert_eq!(parse("max-keys=001").max_keys, 1);
        assert_eq!(parse("max-keys=1000").max_keys, 1000);
        assert_eq!(parse("max-keys=1001").max_keys, 1000);
        assert_eq!(parse("max-keys=2147483647").max_keys, 1000);
        for q in [
            "max-keys=-1",
            "max-keys=abc",
            "max-keys=",
            "max-keys=+5",
            "max-keys=1.5",
            "max-keys=%205",
            "max-keys=2147483648",
            "max-keys=99999999999999999999999",
            "max-keys=-",
        ] {
            let e = err(q);
            assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{q}");
        }
    }

    #[test]
    fn fetch_owner_and_encoding_type() {
        assert!(parse("list-type=2&fetch-owner=TRUE").fetch_owner);
        assert!(!parse("list-type=2&fetch-owner=false").fetch_owner);
        assert_eq!(err("list-type=2&fetch-owner=yes").code, S3ErrorCode::InvalidArgument);
        assert!(parse("encoding-type=URL").url_encoding);
        assert_eq!(err("encoding-type=base64").code, S3ErrorCode::InvalidArgument);
        assert_eq!(err("encoding-type=").code, S3ErrorCode::InvalidArgument);
    }

    #[test]
    fn resume_point() {
        let last = LastEntry { kind: EntryKind::Prefix, name: "t/".into() };
        let r = parse("list-type=2&start-after=s");
        assert_eq!(r.resume_point(None), "s");
        assert_eq!(r.resume_point(Some(&last)), "t/");
        assert_eq!(parse("list-type=2").resume_point(None), "");
        assert_eq!(parse("marker=m").resume_point(None), "m");
        assert_eq!(parse("").resume_point(None), "");
    }
}
