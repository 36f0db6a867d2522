"""Authentication failures: each gets the right S3 error and stores nothing."""
import base64
import datetime
import hashlib
import http.client
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from common import ENDPOINT, REGION, client, expect_error, ok, where

s3 = client()
s3.put_object(Bucket="logs", Key="present", Body=b"hello")

# wrong secret, unknown key, wrong region
bad = client(secret_key="not-the-secret")
expect_error(lambda: bad.get_object(Bucket="logs", Key="present"), "SignatureDoesNotMatch", 403)
expect_error(lambda: bad.put_object(Bucket="logs", Key="wrong-secret", Body=b"x"), "SignatureDoesNotMatch", 403)
assert where("logs", "wrong-secret") == []
unknown = client(access_key="AKNOBODY", secret_key="whatever")
expect_error(lambda: unknown.get_object(Bucket="logs", Key="present"), "InvalidAccessKeyId", 403)
expect_error(lambda: unknown.put_object(Bucket="logs", Key="unknown-key", Body=b"x"), "InvalidAccessKeyId", 403)
assert where("logs", "unknown-key") == []
import boto3
from botocore.config import Config
wrong_region = boto3.client("s3", endpoint_url=ENDPOINT, region_name="eu-west-1",
                            aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
e = expect_error(lambda: wrong_region.get_object(Bucket="logs", Key="present"), "AuthorizationHeaderMalformed", 400)
assert "eu-west-1" in str(e) and "us-east-1" in str(e), str(e)
ok("wrong secret, unknown key, wrong region")


def error_of(status_and_body):
    status, body = status_and_body
    root = ET.fromstring(body)
    return status, root.findtext("Code"), root.findtext("RequestId")


def send(method, path, headers, body=b""):
    u = urllib.parse.urlsplit(ENDPOINT)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def signed(method, path, body, headers=None, date=None):
    """Headers of a request signed by botocore (an independent SigV4 implementation)."""
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    req = AWSRequest(method=method, url=ENDPOINT + path, data=body, headers=headers or {})
    auth = S3SigV4Auth(creds, "s3", REGION)
    real = botocore.auth.get_current_datetime
    if date is not None:
        botocore.auth.get_current_datetime = lambda: date.replace(tzinfo=None)
    try:
        auth.add_auth(req)
    finally:
        botocore.auth.get_current_datetime = real
    return dict(req.headers.items())


# a body that does not match its signed sha256: rejected, nothing stored
h = signed("PUT", "/logs/evil", b"good body")
assert h["X-Amz-Content-SHA256"] == hashlib.sha256(b"good body").hexdigest()
status, code, rid = error_of(send("PUT", "/logs/evil", h, b"evil body"))
assert (status, code) == (400, "XAmzContentSHA256Mismatch"), (status, code)
assert rid, "errors carry a request id"
assert where("logs", "evil") == []
# a larger body (several chunks) with one flipped byte at the end
big = os.urandom(3 * 1024 * 1024 + 17)
h = signed("PUT", "/logs/evil-big", big)
status, code, _ = error_of(send("PUT", "/logs/evil-big", h, big[:-1] + bytes([big[-1] ^ 1])))
assert (status, code) == (400, "XAmzContentSHA256Mismatch"), (status, code)
assert where("logs", "evil-big") == []
# the same, correct, is stored
status, _ = send("PUT", "/logs/good-big", signed("PUT", "/logs/good-big", big), big)
assert status == 200 and s3.get_object(Bucket="logs", Key="good-big")["Body"].read() == big
ok("sha256 mismatch stores nothing")

# a tampered signed header
h = signed("PUT", "/logs/tampered", b"data", {"x-amz-meta-owner": "alice"})
h["x-amz-meta-owner"] = "mallory"
status, code, _ = error_of(send("PUT", "/logs/tampered", h, b"data"))
assert (status, code) == (403, "SignatureDoesNotMatch"), (status, code)
assert where("logs", "tampered") == []
# an x-amz header that was not signed at all
h = signed("PUT", "/logs/unsigned-hdr", b"data")
h["x-amz-meta-extra"] = "sneaky"
status, code, _ = error_of(send("PUT", "/logs/unsigned-hdr", h, b"data"))
assert (status, code) == (403, "AccessDenied"), (status, code)
assert where("logs", "unsigned-hdr") == []
ok("tampered and unsigned headers")

# clock skew
old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
h = signed("GET", "/logs/present", b"", date=old)
status, code, _ = error_of(send("GET", "/logs/present", h))
assert (status, code) == (403, "RequestTimeTooSkewed"), (status, code)
ok("clock skew")

# anonymous requests and SigV2
status, code, _ = error_of(send("GET", "/logs/present", {}))
assert (status, code) == (403, "AccessDenied"), (status, code)
status, code, _ = error_of(send("GET", "/logs/present", {"Authorization": "AWS AKACME:c2lnbmF0dXJl"}))
assert (status, code) == (400, "InvalidRequest"), (status, code)
ok("anonymous and SigV2")

# Content-MD5 and x-amz-checksum mismatches
expect_error(lambda: s3.put_object(Bucket="logs", Key="md5", Body=b"abc",
                                   ContentMD5=base64.b64encode(hashlib.md5(b"abd").digest()).decode()), "BadDigest", 400)
assert where("logs", "md5") == []
expect_error(lambda: s3.put_object(Bucket="logs", Key="crc", Body=b"abc", ChecksumCRC32="AAAAAA=="), "BadDigest", 400)
assert where("logs", "crc") == []
s3.put_object(Bucket="logs", Key="md5-ok", Body=b"abc", ContentMD5=base64.b64encode(hashlib.md5(b"abc").digest()).decode())
ok("digest mismatches store nothing")

# presigned URLs: valid GET and PUT work, expired and over-long ones do not
url = s3.generate_presigned_url("get_object", Params={"Bucket": "logs", "Key": "present"}, ExpiresIn=60)
assert urllib.request.urlopen(url).read() == b"hello"
put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "logs", "Key": "via-presigned"}, ExpiresIn=60)
req = urllib.request.Request(put_url, data=b"presigned body", method="PUT")
assert urllib.request.urlopen(req).status == 200
assert s3.get_object(Bucket="logs", Key="via-presigned")["Body"].read() == b"presigned body"
expired = s3.generate_presigned_url("get_object", Params={"Bucket": "logs", "Key": "present"}, ExpiresIn=1)
time.sleep(2.5)
try:
    urllib.request.urlopen(expired)
    raise AssertionError("expired URL accepted")
except urllib.error.HTTPError as e:
    body = e.read()
    assert e.code == 403 and ET.fromstring(body).findtext("Code") == "AccessDenied", (e.code, body)
    assert b"expired" in body, body
too_long = s3.generate_presigned_url("get_object", Params={"Bucket": "logs", "Key": "present"}, ExpiresIn=604801)
try:
    urllib.request.urlopen(too_long)
    raise AssertionError("8-day URL accepted")
except urllib.error.HTTPError as e:
    assert e.code == 400 and ET.fromstring(e.read()).findtext("Code") == "AuthorizationQueryParametersError"
tampered = url.replace("present", "presenT")
try:
    urllib.request.urlopen(tampered)
    raise AssertionError("tampered URL accepted")
except urllib.error.HTTPError as e:
    assert e.code == 403 and ET.fromstring(e.read()).findtext("Code") == "SignatureDoesNotMatch"
ok("presigned URLs")
