//! Outbound signing: the `Authorization` header of a request sluice sends to
//! a backend, signed with the backend's own credentials.
//!
//! Spec: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>.
//!
//! # Security
//! - The backend secret is only read to derive a signing key; the output is
//!   the `Authorization` value, which holds the access key and signature only.

use xxhash_rust::xxh3::xxh3_64;

use super::canonical::{RequestParts, write_canonical_request};
use super::header_scan::HeaderScan;
use super::hex_digest::encode_hex_digest;
use super::limits::{ALGORITHM, SCOPE_DATE_LEN, SCOPE_TERMINATOR};
use super::scratch::SigV4Scratch;
use super::signed_headers::SignedHeaders;
use super::signing_key::SigningKeyCache;
use super::string_to_sign::{Scope, signature};
use crate::secret::Secret;
use crate::time::format_amz_date;

/// A request sluice sends to a backend, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct OutboundRequest<'x> {
    pub method: &'x str,
    /// The path, already URI-encoded (build it with [`super::uri_encode`]).
    pub path: &'x str,
    /// The raw query, without `?`.
    pub query: &'x str,
    /// Must include `host`, `x-amz-date` (= `format_amz_date(now)`) and
    /// `x-amz-content-sha256`, plus every other header named in `signed_headers`.
    pub headers: &'x [httparse::Header<'x>],
    /// Lowercase names, sorted, `;`-separated: `host;x-amz-content-sha256;x-amz-date`.
    pub signed_headers: &'x str,
    /// The `x-amz-content-sha256` value (hex SHA-256, `UNSIGNED-PAYLOAD`, ...).
    pub payload_hash: &'x str,
}

/// Signs `req` with a backend's credentials and writes the full
/// `Authorization` header value into `out_authorization` (cleared first):
/// `AWS4-HMAC-SHA256 Credential=AK/YYYYMMDD/region/service/aws4_request, SignedHeaders=..., Signature=...`.
///
/// The scope date and string-to-sign time come from `now`; the `x-amz-date`
/// header sent must be `format_amz_date(now)`. The signing key is cached in
/// `cache` under a fingerprint (xxh3) of the secret as its key version, so a
/// rotated backend secret is never signed with a stale key. A header named in
/// `signed_headers` but absent from `headers` is signed with an empty value
/// (the backend will refuse the request; sluice never panics on it).
// The argument list is the interface the backend client integrates against.
#[allow(clippy::too_many_arguments)]
pub fn sign_headers(
    req: &OutboundRequest<'_>,
    creds: (&str, &Secret),
    region: &str,
    service: &str,
    now: i64,
    scratch: &mut SigV4Scratch,
    cache: &mut SigningKeyCache,
    out_authorization: &mut Vec<u8>,
) {
    let (access_key, secret) = creds;
    let amz_date = format_amz_date(now);
    // format_amz_date writes ASCII digits only.
    let date = std::str::from_utf8(&amz_date[..SCOPE_DATE_LEN]).unwrap_or_default();
    debug_assert!(
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("x-amz-date"))
            .is_none_or(|h| h.value == amz_date),
        "x-amz-date header differs from `now`"
    );
    let signed_headers = SignedHeaders::trusted(req.signed_headers);
    let mut scan = HeaderScan::empty();
    scan.fill(req.headers, &signed_headers);
    let parts = RequestParts {
        method: req.method,
        path: req.path,
        query: req.query,
        headers: req.headers,
        signed_headers,
        scan: &scan,
        payload: req.payload_hash,
        skip_signature_param: false,
    };
    let written = write_canonical_request(&parts, scratch);
    let key_version = xxh3_64(secret.expose().as_bytes());
    let (_, mac) = cache.keyed(access_key, date, region, service, key_version, secret);
    let sig = signature(mac, &amz_date, &Scope { date, region, service }, &written.hash);

    let out = out_authorization;
    out.clear();
    for piece in [ALGORITHM, " Credential=", access_key, "/", date, "/", region, "/", service, "/"] {
        out.extend_from_slice(piece.as_bytes());
    }
    for piece in [SCOPE_TERMINATOR, ", SignedHeaders=", req.signed_headers, ", Signature="] {
        out.extend_from_slice(piece.as_bytes());
    }
    out.extend_from_slice(&encode_hex_digest(&sig));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::payload::EMPTY_SHA256_HEX;
    use crate::time::parse_amz_date;
    use sha2::{Digest, Sha256};

    // The generic aws-sig-v4-test-suite (service "service", 2015-08-30).
    const SUITE_AK: &str = "AKIDEXAMPLE";
    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SUITE_DATE: &str = "20150830T123600Z";
    const SUITE_HOST: &str = "example.amazonaws.com";

    /// Signs a suite request and returns (canonical request, Authorization).
    fn suite_sign(method: &str, target: &str, extra: &[(&str, &str)], signed: &str) -> (String, String) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers = vec![
            httparse::Header { name: "Host", value: SUITE_HOST.as_bytes() },
            httparse::Header { name: "X-Amz-Date", value: SUITE_DATE.as_bytes() },
        ];
        headers.extend(extra.iter().map(|(n, v)| httparse::Header { name: n, value: v.as_bytes() }));
        let req = OutboundRequest {
            method,
            path,
            query,
            headers: &headers,
            signed_headers: signed,
            payload_hash: EMPTY_SHA256_HEX,
        };
        let (mut scratch, mut cache, mut out) = (SigV4Scratch::new(), SigningKeyCache::new(), Vec::new());
        let now = parse_amz_date(SUITE_DATE).unwrap();
        let secret = Secret::new(SUITE_SECRET);
        sign_headers(
            &req,
            (SUITE_AK, &secret),
            "us-east-1",
            "service",
            now,
            &mut scratch,
            &mut cache,
            &mut out,
        );
        (String::from_utf8(scratch.canonical.clone()).unwrap(), String::from_utf8(out).unwrap())
    }

    fn suite_auth(signed: &str, sig: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders={signed}, Signature={sig}"
        )
    }

    #[test]
    fn suite_get_vanilla_query_order_key_case() {
        let (creq, auth) = suite_sign("GET", "/?Param2=value2&Param1=value1", &[], "host;x-amz-date");
        assert_eq!(
            creq,
            format!(
                "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
                 host;x-amz-date\n{EMPTY_SHA256_HEX}"
            )
        );
        assert_eq!(
            hex::encode(Sha256::digest(creq.as_bytes())),
            "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"
        );
        let sig = "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500";
        assert_eq!(auth, suite_auth("host;x-amz-date", sig));
    }

    #[test]
    fn suite_get_vanilla_query_order_value() {
        let (_, auth) = suite_sign("GET", "/?Param1=value2&Param1=value1", &[], "host;x-amz-date");
        let sig = "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694";
        assert_eq!(auth, suite_auth("host;x-amz-date", sig));
    }

    #[test]
    fn suite_get_unreserved() {
        let target = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let (creq, auth) = suite_sign("GET", target, &[], "host;x-amz-date");
        assert!(creq.starts_with(&format!("GET\n{target}\n\n")));
        let sig = "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f";
        assert_eq!(auth, suite_auth("host;x-amz-date", sig));
    }

    #[test]
    fn suite_get_vanilla_utf8_query() {
        let (_, auth) = suite_sign("GET", "/?%E1%88%B4=bar", &[], "host;x-amz-date");
        let sig = "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04";
        assert_eq!(auth, suite_auth("host;x-amz-date", sig));
    }

    #[test]
    fn suite_post_header_key_sort() {
        let (creq, auth) = suite_sign("POST", "/", &[("My-Header1", "value1")], "host;my-header1;x-amz-date");
        assert_eq!(
            creq,
            format!(
                "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\n\
                 host;my-header1;x-amz-date\n{EMPTY_SHA256_HEX}"
            )
        );
        let sig = "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c";
        assert_eq!(auth, suite_auth("host;my-header1;x-amz-date", sig));
    }

    #[test]
    fn suite_header_value_trim_and_order() {
        let trim = [("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")];
        let (_, auth) = suite_sign("GET", "/", &trim, "host;my-header1;my-header2;x-amz-date");
        let sig = "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736";
        assert_eq!(auth, suite_auth("host;my-header1;my-header2;x-amz-date", sig));

        let order = [
            ("My-Header1", "value4"),
            ("My-Header1", "value1"),
            ("My-Header1", "value3"),
            ("My-Header1", "value2"),
        ];
        let (_, auth) = suite_sign("GET", "/", &order, "host;my-header1;x-amz-date");
        let sig = "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01";
        assert_eq!(auth, suite_auth("host;my-header1;x-amz-date", sig));
    }

    #[test]
    fn suite_post_x_www_form_urlencoded() {
        // The body hash of "Param1=value1" is the payload line.
        let headers = [
            httparse::Header { name: "Content-Type", value: b"application/x-www-form-urlencoded" },
            httparse::Header { name: "Host", value: SUITE_HOST.as_bytes() },
            httparse::Header { name: "X-Amz-Date", value: SUITE_DATE.as_bytes() },
        ];
        let payload = hex::encode(Sha256::digest(b"Param1=value1"));
        let req = OutboundRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            signed_headers: "content-type;host;x-amz-date",
            payload_hash: &payload,
        };
        let (mut scratch, mut cache, mut out) = (SigV4Scratch::new(), SigningKeyCache::new(), Vec::new());
        let now = parse_amz_date(SUITE_DATE).unwrap();
        let secret = Secret::new(SUITE_SECRET);
        sign_headers(
            &req,
            (SUITE_AK, &secret),
            "us-east-1",
            "service",
            now,
            &mut scratch,
            &mut cache,
            &mut out,
        );
        let sig = "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a";
        assert_eq!(String::from_utf8(out).unwrap(), suite_auth("content-type;host;x-amz-date", sig));
    }

    #[test]
    fn rotated_backend_secret_is_not_served_from_cache() {
        let headers = [
            httparse::Header { name: "host", value: b"h" },
            httparse::Header { name: "x-amz-date", value: SUITE_DATE.as_bytes() },
        ];
        let req = OutboundRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            signed_headers: "host;x-amz-date",
            payload_hash: EMPTY_SHA256_HEX,
        };
        let (mut scratch, mut cache) = (SigV4Scratch::new(), SigningKeyCache::new());
        let now = parse_amz_date(SUITE_DATE).unwrap();
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        let (s1, s2) = (Secret::new("one"), Secret::new("two"));
        sign_headers(&req, ("AK", &s1), "r", "s3", now, &mut scratch, &mut cache, &mut a);
        sign_headers(&req, ("AK", &s2), "r", "s3", now, &mut scratch, &mut cache, &mut b);
        sign_headers(&req, ("AK", &s1), "r", "s3", now, &mut scratch, &mut cache, &mut c);
        assert_ne!(a, b);
        assert_eq!(a, c);
    }
}
