"""aws-chunked uploads in every mode, built here independently of sluice:
the head is signed by botocore, chunk and trailer signatures are computed with
hashlib/hmac following AWS's "sigv4-streaming" pages. Then the failures: each
gets the right error and stores nothing.
"""
import base64
import hashlib
import hmac
import http.client
import os
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from common import ENDPOINT, REGION, client, ok, where

AK, SK = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
EMPTY = hashlib.sha256(b"").hexdigest()
s3 = client()


class FixedPayloadAuth(S3SigV4Auth):
    def __init__(self, creds, payload):
        super().__init__(creds, "s3", REGION)
        self.fixed = payload

    def payload(self, request):
        return self.fixed


def hm(key, msg):
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


def signing_key(date):
    k = hm(("AWS4" + SK).encode(), date)
    for part in (REGION, "s3", "aws4_request"):
        k = hm(k, part)
    return k


def build(key, data, mode, chunk=65536, trailer_alg=None, tamper=None):
    """Returns (headers, body) of a PUT in `mode`: signed, signed-trailer or unsigned-trailer."""
    payload = {
        "signed": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "signed-trailer": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "unsigned-trailer": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    }[mode]
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "Content-Type": "text/x-chunked",
    }
    if trailer_alg:
        headers["x-amz-trailer"] = "x-amz-checksum-" + trailer_alg
    req = AWSRequest(method="PUT", url=f"{ENDPOINT}/logs/{key}", data=b"", headers=headers)
    FixedPayloadAuth(Credentials(AK, SK), payload).add_auth(req)
    h = dict(req.headers.items())
    amz_date = h["X-Amz-Date"]
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    prev = h["Authorization"].rsplit("Signature=", 1)[1]
    key_bytes = signing_key(amz_date[:8])
    signed = mode != "unsigned-trailer"
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    body = b""
    for piece in pieces:
        if signed:
            sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY, hashlib.sha256(piece).hexdigest()])
            prev = hmac.new(key_bytes, sts.encode(), hashlib.sha256).hexdigest()
            sig = prev
            if tamper == "signature" and piece:
                sig = ("0" if sig[0] != "0" else "1") + sig[1:]
            body += f"{len(piece):x};chunk-signature={sig}\r\n".encode()
        else:
            body += f"{len(piece):x}\r\n".encode()
        if piece:
            if tamper == "data" and piece is pieces[0]:
                piece = bytes([piece[0] ^ 1]) + piece[1:]
            body += piece + b"\r\n"
    if trailer_alg:
        value = checksum(trailer_alg, data if tamper != "checksum" else data + b"x")
        trailer = f"x-amz-checksum-{trailer_alg}:{value}"
        body += (trailer + "\r\n").encode()
        if signed:
            sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, prev,
                             hashlib.sha256((trailer + "\n").encode()).hexdigest()])
            tsig = hmac.new(key_bytes, sts.encode(), hashlib.sha256).hexdigest()
            body += f"x-amz-trailer-signature:{tsig}\r\n".encode()
    body += b"\r\n"
    h["Content-Length"] = str(len(body))
    return h, body


def checksum(alg, data):
    if alg == "crc32":
        return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    if alg == "sha256":
        return base64.b64encode(hashlib.sha256(data).digest()).decode()
    if alg == "sha1":
        return base64.b64encode(hashlib.sha1(data).digest()).decode()
    raise ValueError(alg)


def send(key, headers, body, truncate=False):
    u = urllib.parse.urlsplit(ENDPOINT)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    if truncate:
        conn.putrequest("PUT", f"/logs/{key}", skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        conn.send(body[: len(body) // 2])
        conn.sock.shutdown(1)
    else:
        conn.request("PUT", f"/logs/{key}", body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    code = ET.fromstring(data).findtext("Code") if data.startswith(b"<?xml") else None
    return resp.status, code


data = os.urandom(200_000)
for mode, alg in [("signed", None), ("signed-trailer", "crc32"), ("signed-trailer", "sha256"),
                  ("unsigned-trailer", "crc32"), ("unsigned-trailer", "sha1")]:
    key = f"chunked/{mode}-{alg}"
    h, body = build(key, data, mode, trailer_alg=alg)
    status, code = send(key, h, body)
    assert status == 200, (mode, alg, status, code)
    got = s3.get_object(Bucket="logs", Key=key, ChecksumMode="ENABLED")
    assert got["Body"].read() == data, (mode, alg)
    assert got["ContentType"] == "text/x-chunked"
    assert got.get("ContentEncoding") in (None, ""), got.get("ContentEncoding")
    ok(f"{mode} {alg}")
# empty body, signed
h, body = build("chunked/empty", b"", "signed")
assert send("chunked/empty", h, body)[0] == 200
assert s3.get_object(Bucket="logs", Key="chunked/empty")["Body"].read() == b""
ok("empty signed body")

# failures: nothing stored
cases = [
    ("tampered-data", dict(mode="signed", tamper="data"), (403, "SignatureDoesNotMatch")),
    ("tampered-sig", dict(mode="signed", tamper="signature"), (403, "SignatureDoesNotMatch")),
    ("bad-trailer-checksum", dict(mode="signed-trailer", trailer_alg="crc32", tamper="checksum"),
     (400, "XAmzContentChecksumMismatch")),
    ("bad-unsigned-checksum", dict(mode="unsigned-trailer", trailer_alg="crc32", tamper="checksum"),
     (400, "XAmzContentChecksumMismatch")),
]
for name, kw, want in cases:
    key = f"chunked/fail-{name}"
    h, body = build(key, data, **kw)
    got = send(key, h, body)
    assert got == want, (name, got, want)
    assert where("logs", key) == [], name
    ok(f"refused {name}")

# a decoded length that does not match
h, body = build("chunked/fail-length", data, "signed")
h["x-amz-decoded-content-length"] = str(len(data) + 1)
# (the header is signed: re-sign with the wrong length declared up front)
key = "chunked/fail-length"
hh, body = build(key, data, "signed")
status, code = send(key, {**hh, "x-amz-decoded-content-length": str(len(data) - 1)}, body)
assert status in (400, 403), (status, code)
assert where("logs", key) == []
ok("decoded length mismatch refused")

# an oversized chunk-size line
key = "chunked/fail-line"
hh, body = build(key, b"abc", "unsigned-trailer", trailer_alg="crc32")
body = b"3;" + b"x" * 8192 + body[1:]
hh["Content-Length"] = str(len(body))
status, code = send(key, hh, body)
assert status == 400, (status, code)
assert where("logs", key) == []
ok("oversized chunk line refused")

# a truncated body
key = "chunked/fail-truncated"
hh, body = build(key, data, "signed")
try:
    status, code = send(key, hh, body, truncate=True)
    assert status == 400, (status, code)
except (ConnectionError, http.client.HTTPException):
    pass
assert where("logs", key) == []
ok("truncated body stores nothing")
