"""Multipart uploads through sluice with boto3: transfers (upload_file /
download_file), the low-level calls, and every refusal.

Usage: multipart.py <checksum mode: when_supported|when_required>
"""
import hashlib
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig

from common import backend_client, backends, client, expect_error, ok, other_client, physical, wait_replicated, where

mode = sys.argv[1] if len(sys.argv) > 1 else "when_supported"
tmp = sys.argv[2] if len(sys.argv) > 2 else "/tmp"
s3 = client(checksum=mode)
MiB = 1024 * 1024

# upload_file / download_file with 5 MiB parts, 4 threads
path = os.path.join(tmp, f"mp-{mode}.bin")
with open(path, "wb") as f:
    for i in range(23):
        f.write(bytes([i]) * MiB)
size = os.path.getsize(path)
want = hashlib.sha256(open(path, "rb").read()).hexdigest()
cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
s3.upload_file(path, "logs", f"transfer/{mode}", Config=cfg, ExtraArgs={"ContentType": "application/x-test",
                                                                          "Metadata": {"k": "v"}})
head = s3.head_object(Bucket="logs", Key=f"transfer/{mode}")
assert head["ContentLength"] == size
assert head["ETag"].endswith('-5"'), head["ETag"]
assert head["ContentType"] == "application/x-test" and head["Metadata"] == {"k": "v"}, head
back = path + ".back"
s3.download_file("logs", f"transfer/{mode}", back, Config=cfg)
assert hashlib.sha256(open(back, "rb").read()).hexdigest() == want
wait_replicated(timeout=120)
assert len(where("logs", f"transfer/{mode}")) == 2, "both replicas hold the object"
os.remove(back)
ok("upload_file / download_file")

# the ETag is the MD5 of the part MD5s
parts = [bytes([7]) * (5 * MiB), b"tail"]
up = s3.create_multipart_upload(Bucket="logs", Key="low/level")
uid = up["UploadId"]
etags = []
for n, data in enumerate(parts, 1):
    etags.append(s3.upload_part(Bucket="logs", Key="low/level", UploadId=uid, PartNumber=n, Body=data)["ETag"])
listed = s3.list_parts(Bucket="logs", Key="low/level", UploadId=uid)
assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2]
assert [p["ETag"] for p in listed["Parts"]] == etags
assert [p["Size"] for p in listed["Parts"]] == [5 * MiB, 4]
page = s3.list_parts(Bucket="logs", Key="low/level", UploadId=uid, MaxParts=1)
assert page["IsTruncated"] and page["NextPartNumberMarker"] == 1 and len(page["Parts"]) == 1
uploads = s3.list_multipart_uploads(Bucket="logs")
assert any(u["UploadId"] == uid and u["Key"] == "low/level" for u in uploads.get("Uploads", [])), uploads
done = s3.complete_multipart_upload(Bucket="logs", Key="low/level", UploadId=uid, MultipartUpload={
    "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
md5s = b"".join(hashlib.md5(p).digest() for p in parts)
assert done["ETag"] == '"%s-2"' % hashlib.md5(md5s).hexdigest(), done["ETag"]
assert s3.get_object(Bucket="logs", Key="low/level")["Body"].read() == b"".join(parts)
assert uid not in [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="logs").get("Uploads", [])]
expect_error(lambda: s3.list_parts(Bucket="logs", Key="low/level", UploadId=uid), "NoSuchUpload", 404)
ok("low-level multipart and ETag")

# refusals
up = s3.create_multipart_upload(Bucket="logs", Key="bad/parts")
uid = up["UploadId"]
e1 = s3.upload_part(Bucket="logs", Key="bad/parts", UploadId=uid, PartNumber=1, Body=b"small")["ETag"]
e2 = s3.upload_part(Bucket="logs", Key="bad/parts", UploadId=uid, PartNumber=2, Body=b"small")["ETag"]
expect_error(lambda: s3.complete_multipart_upload(Bucket="logs", Key="bad/parts", UploadId=uid, MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}), "EntityTooSmall", 400)
expect_error(lambda: s3.complete_multipart_upload(Bucket="logs", Key="bad/parts", UploadId=uid, MultipartUpload={
    "Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]}), "InvalidPartOrder", 400)
expect_error(lambda: s3.complete_multipart_upload(Bucket="logs", Key="bad/parts", UploadId=uid, MultipartUpload={
    "Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]}), "InvalidPart", 400)
expect_error(lambda: s3.complete_multipart_upload(Bucket="logs", Key="bad/parts", UploadId=uid, MultipartUpload={
    "Parts": [{"PartNumber": 3, "ETag": e1}]}), "InvalidPart", 400)
expect_error(lambda: s3.upload_part(Bucket="logs", Key="bad/parts", UploadId=uid, PartNumber=10001, Body=b"x"),
             "InvalidArgument", 400)
# forged and misused upload ids
forged = uid[:-2] + ("AA" if uid[-2:] != "AA" else "BB")
expect_error(lambda: s3.upload_part(Bucket="logs", Key="bad/parts", UploadId=forged, PartNumber=1, Body=b"x"),
             "NoSuchUpload", 404)
expect_error(lambda: s3.upload_part(Bucket="logs", Key="other/key", UploadId=uid, PartNumber=1, Body=b"x"),
             "NoSuchUpload", 404)
expect_error(lambda: s3.list_parts(Bucket="logs", Key="bad/parts", UploadId="garbage"), "NoSuchUpload", 404)
expect_error(lambda: other_client().list_parts(Bucket="logs", Key="bad/parts", UploadId=uid), "AccessDenied", 403)
s3.abort_multipart_upload(Bucket="logs", Key="bad/parts", UploadId=uid)
expect_error(lambda: s3.abort_multipart_upload(Bucket="logs", Key="bad/parts", UploadId=uid), "NoSuchUpload", 404)
expect_error(lambda: s3.upload_part(Bucket="logs", Key="bad/parts", UploadId=uid, PartNumber=1, Body=b"x"),
             "NoSuchUpload", 404)
assert where("logs", "bad/parts") == []
ok("multipart refusals, forged ids")

# UploadPartCopy: a range of an object in another bucket, then a normal part
src = bytes(range(256)) * (24 * 1024)  # 6 MiB
s3.put_object(Bucket="any", Key="copy/source", Body=src)
up = s3.create_multipart_upload(Bucket="logs", Key="from/copy")
uid = up["UploadId"]
p1 = s3.upload_part_copy(Bucket="logs", Key="from/copy", UploadId=uid, PartNumber=1,
                         CopySource={"Bucket": "any", "Key": "copy/source"}, CopySourceRange=f"bytes=0-{5 * MiB - 1}")
p2 = s3.upload_part(Bucket="logs", Key="from/copy", UploadId=uid, PartNumber=2, Body=b"end")
s3.complete_multipart_upload(Bucket="logs", Key="from/copy", UploadId=uid, MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
assert s3.get_object(Bucket="logs", Key="from/copy")["Body"].read() == src[:5 * MiB] + b"end"
ok("UploadPartCopy")

# conditional completion: If-None-Match: * refuses to overwrite
up = s3.create_multipart_upload(Bucket="logs", Key="low/level")
uid = up["UploadId"]
e = s3.upload_part(Bucket="logs", Key="low/level", UploadId=uid, PartNumber=1, Body=b"again")["ETag"]
expect_error(lambda: s3.complete_multipart_upload(Bucket="logs", Key="low/level", UploadId=uid, IfNoneMatch="*",
             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]}), "PreconditionFailed", 412)
s3.abort_multipart_upload(Bucket="logs", Key="low/level", UploadId=uid)
ok("conditional CompleteMultipartUpload")

# checksums: CRC32 parts and the composite object checksum
up = s3.create_multipart_upload(Bucket="any", Key="crc/multi", ChecksumAlgorithm="CRC32")
uid = up["UploadId"]
parts = []
for n, data in enumerate([b"a" * (5 * MiB), b"bcd"], 1):
    r = s3.upload_part(Bucket="any", Key="crc/multi", UploadId=uid, PartNumber=n, Body=data, ChecksumAlgorithm="CRC32")
    assert r.get("ChecksumCRC32"), r
    parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
done = s3.complete_multipart_upload(Bucket="any", Key="crc/multi", UploadId=uid, MultipartUpload={"Parts": parts})
assert done.get("ChecksumCRC32", "").endswith("-2"), done
bad = dict(parts[1], ChecksumCRC32="AAAAAA==")
up = s3.create_multipart_upload(Bucket="any", Key="crc/bad", ChecksumAlgorithm="CRC32")
r = s3.upload_part(Bucket="any", Key="crc/bad", UploadId=up["UploadId"], PartNumber=1, Body=b"z", ChecksumAlgorithm="CRC32")
expect_error(lambda: s3.complete_multipart_upload(Bucket="any", Key="crc/bad", UploadId=up["UploadId"],
             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumCRC32": "AAAAAA=="}]}),
             "InvalidPart", 400)
ok("part checksums")
os.remove(path)
