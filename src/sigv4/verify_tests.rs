//! Tests of `verify`: AWS's published S3 examples byte for byte, every error
//! path, the signing-key cache under rotation, and outbound signing round trips.

use super::*;
use crate::error::{S3Error, S3ErrorCode};
use crate::sigv4::detect::detect;
use crate::sigv4::payload::EMPTY_SHA256_HEX;
use crate::sigv4::sign::{OutboundRequest, sign_headers};
use crate::sigv4::signing_key::derive_signing_key;
use crate::sigv4::string_to_sign::signature;

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const HOST: &str = "examplebucket.s3.amazonaws.com";
const DATE: &str = "20130524T000000Z";
const REGION: &str = "us-east-1";

fn t0() -> i64 {
    parse_amz_date(DATE).unwrap()
}

/// An owned request, so tests can tamper with it.
#[derive(Clone)]
struct Req {
    method: &'static str,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

impl Req {
    fn new(method: &'static str, target: &str, headers: &[(&str, &str)]) -> Req {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        Req { method, path: path.into(), query: query.into(), headers }
    }

    fn set(&mut self, name: &str, value: &str) -> &mut Req {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    fn remove(&mut self, name: &str) -> &mut Req {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }
}

/// What a successful verification returned, owned.
#[derive(Debug)]
struct Outcome {
    access_key: String,
    payload: PayloadHash,
    signature: String,
    date: String,
    presigned: bool,
    canonical: String,
}

struct Env {
    now: i64,
    region: &'static str,
    secret: Secret,
    version: u64,
    scratch: SigV4Scratch,
    cache: SigningKeyCache,
}

impl Env {
    fn new(now: i64) -> Env {
        Env {
            now,
            region: REGION,
            secret: Secret::new(SECRET),
            version: 1,
            scratch: SigV4Scratch::new(),
            cache: SigningKeyCache::new(),
        }
    }

    fn check(&mut self, req: &Req) -> Result<Outcome, SigV4Error> {
        let headers: Vec<httparse::Header<'_>> =
            req.headers.iter().map(|(n, v)| httparse::Header { name: n, value: v.as_bytes() }).collect();
        let input = AuthInput { method: req.method, path: &req.path, query: &req.query, headers: &headers };
        let kind = detect(&input)?;
        let ctx = VerifyCtx { region: self.region, now: self.now };
        let v = verify(&input, &kind, &self.secret, self.version, &ctx, &mut self.scratch, &mut self.cache)?;
        assert_eq!(&v.amz_date[..], kind_amz_date(&kind, &headers).as_bytes());
        Ok(Outcome {
            access_key: v.access_key.into(),
            payload: v.payload,
            signature: hex::encode(v.seed_signature),
            date: v.date.into(),
            presigned: v.presigned,
            canonical: String::from_utf8(self.scratch.canonical.clone()).unwrap(),
        })
    }
}

fn kind_amz_date<'a>(kind: &AuthKind<'a>, headers: &[httparse::Header<'a>]) -> &'a str {
    match kind {
        AuthKind::Presigned(p) => p.amz_date,
        _ => crate::http::head::find_header(headers, "x-amz-date").and_then(value_str).unwrap(),
    }
}

fn check(req: &Req) -> Result<Outcome, SigV4Error> {
    Env::new(t0()).check(req)
}

fn auth_header(signed: &str, sig: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders={signed},Signature={sig}"
    )
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

// ---- AWS "Signature Calculations for the Authorization Header: Transferring
// ---- Payload in a Single Chunk" examples -------------------------------------

#[test]
fn aws_example_get_object() {
    let sig = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    let auth = auth_header("host;range;x-amz-content-sha256;x-amz-date", sig);
    let req = Req::new(
        "GET",
        "/test.txt",
        &[
            ("Host", HOST),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256_HEX),
            ("x-amz-date", DATE),
            ("Authorization", &auth),
        ],
    );
    let out = check(&req).unwrap();
    let creq = format!(
        "GET\n/test.txt\n\nhost:{HOST}\nrange:bytes=0-9\nx-amz-content-sha256:{EMPTY_SHA256_HEX}\n\
         x-amz-date:{DATE}\n\nhost;range;x-amz-content-sha256;x-amz-date\n{EMPTY_SHA256_HEX}"
    );
    assert_eq!(out.canonical, creq);
    assert_eq!(sha256_hex(&creq), "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    assert_eq!(out.signature, sig);
    assert_eq!((out.access_key.as_str(), out.date.as_str(), out.presigned), (AK, "20130524", false));
    assert_eq!(out.payload, PayloadHash::parse(EMPTY_SHA256_HEX).unwrap());
}

#[test]
fn aws_example_put_object() {
    let payload = sha256_hex("Welcome to Amazon S3.");
    assert_eq!(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    let sig = "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd";
    let auth = auth_header("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", sig);
    let req = Req::new(
        "PUT",
        "/test$file.text",
        &[
            ("Host", HOST),
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("Authorization", &auth),
            ("x-amz-date", DATE),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", &payload),
        ],
    );
    let out = check(&req).unwrap();
    let creq = format!(
        "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:{HOST}\n\
         x-amz-content-sha256:{payload}\nx-amz-date:{DATE}\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n\
         date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n{payload}"
    );
    assert_eq!(out.canonical, creq);
    assert_eq!(sha256_hex(&creq), "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
    assert_eq!(out.signature, sig);
    // the same request with the path already encoded verifies too
    let mut encoded = req.clone();
    encoded.path = "/test%24file.text".into();
    assert!(check(&encoded).is_ok());
}

fn bucket_get(query: &str, sig: &str) -> Req {
    let auth = auth_header("host;x-amz-content-sha256;x-amz-date", sig);
    Req::new(
        "GET",
        &format!("/?{query}"),
        &[
            ("Host", HOST),
            ("x-amz-date", DATE),
            ("x-amz-content-sha256", EMPTY_SHA256_HEX),
            ("Authorization", &auth),
        ],
    )
}

#[test]
fn aws_example_get_bucket_lifecycle() {
    let req = bucket_get("lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    let out = check(&req).unwrap();
    let creq = format!(
        "GET\n/\nlifecycle=\nhost:{HOST}\nx-amz-content-sha256:{EMPTY_SHA256_HEX}\nx-amz-date:{DATE}\n\n\
         host;x-amz-content-sha256;x-amz-date\n{EMPTY_SHA256_HEX}"
    );
    assert_eq!(out.canonical, creq);
    assert_eq!(sha256_hex(&creq), "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
}

#[test]
fn aws_example_list_objects() {
    let req =
        bucket_get("max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    let out = check(&req).unwrap();
    let creq = format!(
        "GET\n/\nmax-keys=2&prefix=J\nhost:{HOST}\nx-amz-content-sha256:{EMPTY_SHA256_HEX}\nx-amz-date:{DATE}\n\n\
         host;x-amz-content-sha256;x-amz-date\n{EMPTY_SHA256_HEX}"
    );
    assert_eq!(out.canonical, creq);
    assert_eq!(sha256_hex(&creq), "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
    // query order as sent does not matter
    let swapped =
        bucket_get("prefix=J&max-keys=2", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    assert!(check(&swapped).is_ok());
}

// ---- AWS "Authenticating Requests: Using Query Parameters" example -----------

const PRESIGNED_QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
    &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
    &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
    &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

fn presigned_example() -> Req {
    Req::new("GET", &format!("/test.txt?{PRESIGNED_QUERY}"), &[("Host", HOST)])
}

#[test]
fn aws_example_presigned_get() {
    let out = check(&presigned_example()).unwrap();
    let creq = format!(
        "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n\
         host:{HOST}\n\nhost\nUNSIGNED-PAYLOAD"
    );
    assert_eq!(out.canonical, creq);
    assert_eq!(sha256_hex(&creq), "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
    assert_eq!(out.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    assert_eq!((out.payload, out.presigned), (PayloadHash::Unsigned, true));
}

#[test]
fn presigned_time_window() {
    let req = presigned_example();
    let at = |now| Env::new(now).check(&req).map(|_| ());
    assert_eq!(at(t0() + 86_400), Ok(()));
    assert_eq!(at(t0() + 86_401), Err(SigV4Error::Expired));
    assert_eq!(at(t0() - MAX_CLOCK_SKEW_SECS), Ok(()));
    assert_eq!(at(t0() - MAX_CLOCK_SKEW_SECS - 1), Err(SigV4Error::TimeTooSkewed));
    assert_eq!(at(i64::MAX), Err(SigV4Error::Expired));
    assert_eq!(at(i64::MIN), Err(SigV4Error::TimeTooSkewed));
    let s3 = S3Error::from(SigV4Error::Expired);
    assert_eq!((s3.code, s3.message.as_ref()), (S3ErrorCode::AccessDenied, "Request has expired"));
}

#[test]
fn presigned_errors() {
    let mut env = Env::new(t0());
    env.region = "eu-west-1";
    let err = env.check(&presigned_example()).unwrap_err();
    assert_eq!(err, SigV4Error::QueryMalformed(Malformed::Region(RegionMismatch::new(REGION, "eu-west-1"))));
    assert_eq!(S3Error::from(err).code, S3ErrorCode::AuthorizationQueryParametersError);

    let variant = |from: &str, to: &str| {
        let mut r = presigned_example();
        r.query = r.query.replacen(from, to, 1);
        check(&r)
    };
    assert_eq!(
        variant("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1").unwrap_err(),
        SigV4Error::QueryMalformed(Malformed::Algorithm)
    );
    assert_eq!(
        variant("86400", "604801").unwrap_err(),
        SigV4Error::QueryMalformed(Malformed::ExpiresTooLarge)
    );
    assert_eq!(variant("86400", "86401").unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    assert_eq!(variant("aeeed9bb", "aeeed9bc").unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    assert_eq!(variant("aeeed9bb", "zzzzzzzz").unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    // a signed-over query parameter cannot be added
    assert_eq!(variant("X-Amz-Date", "acl&X-Amz-Date").unwrap_err(), SigV4Error::SignatureDoesNotMatch);

    let mut unsigned = presigned_example();
    unsigned.set("x-amz-meta-a", "b");
    assert_eq!(check(&unsigned).unwrap_err(), SigV4Error::UnsignedHeaders);
    let mut both = presigned_example();
    both.set("Authorization", &auth_header("host", "00"));
    assert_eq!(check(&both).unwrap_err(), SigV4Error::MultipleMechanisms);
}

/// A presigned URL over `signed` headers, signed with the internals.
fn presign(path: &str, headers: &[(&str, &str)], signed_enc: &str, payload_line: &str) -> Req {
    let query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AK}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date={DATE}&X-Amz-Expires=600&X-Amz-SignedHeaders={signed_enc}"
    );
    let mut req = Req::new("PUT", &format!("{path}?{query}"), headers);
    let hdrs: Vec<_> =
        req.headers.iter().map(|(n, v)| httparse::Header { name: n, value: v.as_bytes() }).collect();
    let signed_headers = SignedHeaders::parse(signed_enc, true).unwrap();
    let scan = HeaderScan::new(&hdrs, &signed_headers);
    let parts = RequestParts {
        method: "PUT",
        path,
        query: &query,
        headers: &hdrs,
        signed_headers,
        scan: &scan,
        payload: payload_line,
        skip_signature_param: true,
    };
    let mut scratch = SigV4Scratch::new();
    let written = write_canonical_request(&parts, &mut scratch);
    let key = derive_signing_key(&Secret::new(SECRET), "20130524", REGION, "s3");
    let scope = Scope { date: "20130524", region: REGION, service: "s3" };
    let sig = signature(&crate::sigv4::signing_key::keyed_mac(&key), DATE.as_bytes(), &scope, &written.hash);
    req.query = format!("{query}&X-Amz-Signature={}", hex::encode(sig));
    req
}

#[test]
fn presigned_with_signed_payload_header() {
    let headers = [("host", HOST), ("x-amz-content-sha256", EMPTY_SHA256_HEX), ("x-amz-meta-a", "b")];
    let req = presign("/b/k", &headers, "host%3Bx-amz-content-sha256%3Bx-amz-meta-a", EMPTY_SHA256_HEX);
    let out = check(&req).unwrap();
    assert_eq!(out.payload, PayloadHash::parse(EMPTY_SHA256_HEX).unwrap());
    assert!(out.canonical.contains("\nhost;x-amz-content-sha256;x-amz-meta-a\n"));
    let mut bad = req.clone();
    bad.set("x-amz-content-sha256", "nope");
    assert_eq!(check(&bad).unwrap_err(), SigV4Error::InvalidContentSha256);
    let mut tampered = req.clone();
    tampered.set("x-amz-meta-a", "c");
    assert_eq!(check(&tampered).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

// ---- header auth error paths, on requests signed by `sign_headers` ----------

/// A PUT signed by the outbound signer (round trip), at `t0`.
fn signed_put(path: &str, query: &str, extra: &[(&str, &str)], signed: &str, payload: &str) -> Req {
    let mut headers = vec![("host", HOST), ("x-amz-content-sha256", payload), ("x-amz-date", DATE)];
    headers.extend_from_slice(extra);
    let hdrs: Vec<_> =
        headers.iter().map(|(n, v)| httparse::Header { name: n, value: v.as_bytes() }).collect();
    let out = OutboundRequest {
        method: "PUT",
        path,
        query,
        headers: &hdrs,
        signed_headers: signed,
        payload_hash: payload,
    };
    let (mut scratch, mut cache, mut auth) = (SigV4Scratch::new(), SigningKeyCache::new(), Vec::new());
    let secret = Secret::new(SECRET);
    sign_headers(&out, (AK, &secret), REGION, "s3", t0(), &mut scratch, &mut cache, &mut auth);
    let auth = String::from_utf8(auth).unwrap();
    assert!(
        auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request, "))
    );
    let mut req =
        Req::new("PUT", &if query.is_empty() { path.into() } else { format!("{path}?{query}") }, &headers);
    req.set("Authorization", &auth);
    req
}

const SIGNED: &str = "host;x-amz-content-sha256;x-amz-date";

fn typical_put() -> Req {
    signed_put("/bucket/photos/2013/a%20b.jpg", "x-id=PutObject", &[], SIGNED, "UNSIGNED-PAYLOAD")
}

#[test]
fn outbound_signing_round_trips() {
    let out = check(&typical_put()).unwrap();
    assert_eq!(out.payload, PayloadHash::Unsigned);
    assert!(out.canonical.starts_with("PUT\n/bucket/photos/2013/a%20b.jpg\nx-id=PutObject\n"));
    let streaming = signed_put(
        "/b/%e1%88%b4",
        "partNumber=1&uploadId=a+b",
        &[("content-encoding", "aws-chunked"), ("x-amz-decoded-content-length", "66560")],
        "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    );
    assert_eq!(check(&streaming).unwrap().payload, PayloadHash::StreamingSigned);
}

#[test]
fn clock_skew() {
    let req = typical_put();
    let at = |now| Env::new(now).check(&req).map(|_| ());
    assert_eq!(at(t0() + MAX_CLOCK_SKEW_SECS), Ok(()));
    assert_eq!(at(t0() - MAX_CLOCK_SKEW_SECS), Ok(()));
    assert_eq!(at(t0() + MAX_CLOCK_SKEW_SECS + 1), Err(SigV4Error::TimeTooSkewed));
    assert_eq!(at(t0() - MAX_CLOCK_SKEW_SECS - 1), Err(SigV4Error::TimeTooSkewed));
    assert_eq!(at(i64::MIN), Err(SigV4Error::TimeTooSkewed));
    assert_eq!(S3Error::from(SigV4Error::TimeTooSkewed).status(), 403);
}

#[test]
fn wrong_region() {
    let mut env = Env::new(t0());
    env.region = "eu-central-1";
    let err = env.check(&typical_put()).unwrap_err();
    let s3 = S3Error::from(err);
    assert_eq!(s3.code, S3ErrorCode::AuthorizationHeaderMalformed);
    assert_eq!(
        s3.message,
        "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-central-1'"
    );
}

#[test]
fn date_and_payload_headers() {
    let mut r = typical_put();
    assert_eq!(check(r.remove("x-amz-date")).unwrap_err(), SigV4Error::MissingDate);
    let mut r = typical_put();
    assert_eq!(
        check(r.set("x-amz-date", "Fri, 24 May 2013 00:00:00 GMT")).unwrap_err(),
        SigV4Error::MissingDate
    );
    let mut r = typical_put();
    let err = check(r.set("x-amz-date", "20130525T000000Z")).unwrap_err();
    assert_eq!(err, SigV4Error::HeaderMalformed(Malformed::DateMismatch));
    let mut r = typical_put();
    assert_eq!(check(r.remove("x-amz-content-sha256")).unwrap_err(), SigV4Error::MissingContentSha256);
    let s3 = S3Error::from(SigV4Error::MissingContentSha256);
    assert_eq!(s3.message, "Missing required header for this request: x-amz-content-sha256");
    let mut r = typical_put();
    assert_eq!(
        check(r.set("x-amz-content-sha256", "UNSIGNED")).unwrap_err(),
        SigV4Error::InvalidContentSha256
    );
    assert_eq!(S3Error::from(SigV4Error::InvalidContentSha256).status(), 400);
}

#[test]
fn tampering_is_detected() {
    let req = signed_put(
        "/b/k",
        "",
        &[("content-type", "text/plain")],
        "content-type;host;x-amz-content-sha256;x-amz-date",
        "UNSIGNED-PAYLOAD",
    );
    assert!(check(&req).is_ok());
    let mut r = req.clone();
    assert_eq!(check(r.set("content-type", "text/html")).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut r = req.clone();
    assert_eq!(
        check(r.set("x-amz-content-sha256", EMPTY_SHA256_HEX)).unwrap_err(),
        SigV4Error::SignatureDoesNotMatch
    );
    let mut r = req.clone();
    r.path = "/b/k2".into();
    assert_eq!(check(&r).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut r = req.clone();
    r.query = "acl".into();
    assert_eq!(check(&r).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut r = req.clone();
    assert_eq!(check(r.remove("content-type")).unwrap_err(), SigV4Error::SignedHeaderAbsent);
    let mut r = req.clone();
    assert_eq!(check(r.set("x-amz-acl", "public-read")).unwrap_err(), SigV4Error::UnsignedHeaders);
    let s3 = S3Error::from(SigV4Error::UnsignedHeaders);
    assert_eq!(s3.message, "There were headers present in the request which were not signed");
    // an unsigned non-amz header is fine
    let mut r = req.clone();
    assert!(check(r.set("user-agent", "test")).is_ok());
    // bad signature hex
    let mut r = req.clone();
    let auth = r.headers.iter().find(|(n, _)| n == "Authorization").unwrap().1.clone();
    let short = &auth[..auth.len() - 1];
    assert_eq!(check(r.set("Authorization", short)).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut r = req.clone();
    let upper_g = format!("{}g", &auth[..auth.len() - 1]);
    assert_eq!(check(r.set("Authorization", &upper_g)).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn the_first_amz_header_of_a_name_counts_and_all_must_be_signed() {
    // x-amz-date is signed, so a second one changes the canonical request;
    // which error comes back shows which of the two was read.
    let mut r = typical_put();
    r.headers.push(("x-amz-date".into(), "garbage".into()));
    assert_eq!(check(&r).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    let mut r = typical_put();
    let date = r.headers.iter().position(|(n, _)| n.eq_ignore_ascii_case("x-amz-date")).unwrap();
    r.headers.insert(date, ("X-Amz-Date".into(), "garbage".into()));
    assert_eq!(check(&r).unwrap_err(), SigV4Error::MissingDate);
    let mut r = typical_put();
    assert_eq!(check(r.set("X-Amz-Meta-A", "v")).unwrap_err(), SigV4Error::UnsignedHeaders);
    // a value that is not UTF-8 is as good as absent
    let headers = [
        httparse::Header { name: "X-AMZ-DATE", value: b"2013\xff" },
        httparse::Header { name: "x-amz-content-sha256", value: b" UNSIGNED-PAYLOAD\t" },
    ];
    let signed = SignedHeaders::parse("host;x-amz-content-sha256", false).unwrap();
    let amz = HeaderScan::new(&headers, &signed);
    assert!(amz.unsigned);
    assert_eq!(amz.date.and_then(value_str), None);
    assert_eq!(amz.content_sha256.and_then(value_str), Some("UNSIGNED-PAYLOAD"));
}

#[test]
fn digests_are_equal_only_when_every_byte_is() {
    let a: [u8; DIGEST_LEN] = std::array::from_fn(|i| i as u8);
    assert!(digests_equal(&a, &a.clone()));
    for i in 0..DIGEST_LEN {
        let mut b = a;
        b[i] ^= 1;
        assert!(!digests_equal(&a, &b), "byte {i}");
    }
}

#[test]
fn malformed_authorization_is_reported() {
    let mut r = typical_put();
    let bad = format!("AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request, Signature=00");
    let err = check(r.set("Authorization", &bad)).unwrap_err();
    assert_eq!(err, SigV4Error::HeaderMalformed(Malformed::MissingComponent));
    assert_eq!(S3Error::from(err).code, S3ErrorCode::AuthorizationHeaderMalformed);
    let mut r = typical_put();
    let err = check(r.set("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:c2ln")).unwrap_err();
    let s3 = S3Error::from(err);
    assert_eq!(s3.code, S3ErrorCode::InvalidRequest);
    assert_eq!(
        s3.message,
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
    );
}

#[test]
fn raw_path_is_tried_when_normalisation_differs() {
    // The client signed "/bucket/a%2Fb" as its CanonicalURI, not "/bucket/a/b".
    let creq = format!(
        "PUT\n/bucket/a%2Fb\n\nhost:{HOST}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:{DATE}\n\n{SIGNED}\nUNSIGNED-PAYLOAD"
    );
    let key = derive_signing_key(&Secret::new(SECRET), "20130524", REGION, "s3");
    let scope = Scope { date: "20130524", region: REGION, service: "s3" };
    let sig = signature(
        &crate::sigv4::signing_key::keyed_mac(&key),
        DATE.as_bytes(),
        &scope,
        &Sha256::digest(creq.as_bytes()).into(),
    );
    let auth = auth_header(SIGNED, &hex::encode(sig));
    let headers = [
        ("host", HOST),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ("x-amz-date", DATE),
        ("Authorization", auth.as_str()),
    ];
    let req = Req::new("PUT", "/bucket/a%2Fb", &headers);
    assert_eq!(check(&req).unwrap().signature, hex::encode(sig));
    // ...but only for that path
    let mut other = req.clone();
    other.path = "/bucket/a/b".into();
    assert_eq!(check(&other).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
}

#[test]
fn key_version_change_recomputes_the_cached_key() {
    let req = typical_put();
    let mut env = Env::new(t0());
    assert!(env.check(&req).is_ok());
    assert_eq!(env.cache.stats(), (0, 1));
    assert!(env.check(&req).is_ok());
    assert_eq!(env.cache.stats(), (1, 1));
    // secret rotated: a new version with the new secret re-derives, so the old
    // signature no longer verifies
    env.secret = Secret::new("a-rotated-secret");
    env.version = 2;
    assert_eq!(env.check(&req).unwrap_err(), SigV4Error::SignatureDoesNotMatch);
    assert_eq!(env.cache.stats(), (1, 2));
    // and back
    env.secret = Secret::new(SECRET);
    env.version = 3;
    assert!(env.check(&req).is_ok());
    assert_eq!(env.cache.len(), 1);
}

#[test]
fn anonymous_and_debug() {
    let headers = [httparse::Header { name: "Host", value: b"h" }];
    let input = AuthInput { method: "GET", path: "/b", query: "", headers: &headers };
    let (mut scratch, mut cache) = (SigV4Scratch::new(), SigningKeyCache::new());
    let ctx = VerifyCtx { region: REGION, now: t0() };
    let kind = detect(&input).unwrap();
    let err = verify(&input, &kind, &Secret::new("s"), 0, &ctx, &mut scratch, &mut cache).unwrap_err();
    assert_eq!(err, SigV4Error::Anonymous);

    let req = typical_put();
    let hdrs: Vec<_> =
        req.headers.iter().map(|(n, v)| httparse::Header { name: n, value: v.as_bytes() }).collect();
    let input = AuthInput { method: req.method, path: &req.path, query: &req.query, headers: &hdrs };
    let kind = detect(&input).unwrap();
    let v = verify(&input, &kind, &Secret::new(SECRET), 0, &ctx, &mut scratch, &mut cache).unwrap();
    let dbg = format!("{v:?}");
    assert!(dbg.contains("signing_key: \"***\""));
    // An unsigned payload has no chunk signatures: the key is not handed out.
    assert_eq!((v.payload, v.signing_key), (PayloadHash::Unsigned, [0; DIGEST_LEN]));
    let streaming = signed_put(
        "/b/k",
        "",
        &[("content-encoding", "aws-chunked")],
        "content-encoding;host;x-amz-content-sha256;x-amz-date",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    );
    let hdrs: Vec<_> =
        streaming.headers.iter().map(|(n, v)| httparse::Header { name: n, value: v.as_bytes() }).collect();
    let input = AuthInput { method: "PUT", path: &streaming.path, query: &streaming.query, headers: &hdrs };
    let kind = detect(&input).unwrap();
    let v = verify(&input, &kind, &Secret::new(SECRET), 0, &ctx, &mut scratch, &mut cache).unwrap();
    let key = derive_signing_key(&Secret::new(SECRET), "20130524", REGION, "s3");
    assert_eq!(v.signing_key, key);
    assert!(!format!("{v:?}").contains(&format!("{key:?}")) && !format!("{v:?}").contains(&hex::encode(key)));
}
