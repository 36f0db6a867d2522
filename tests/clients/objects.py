"""Object and bucket round trips through sluice with boto3.

Usage: objects.py <checksum mode: when_supported|when_required>
"""
import hashlib
import os
import sys
import time

from botocore.exceptions import ClientError

from common import client, expect_error, ok, other_client, wait_replicated, where

REPLICAS = {"logs": 2, "any": 1}

mode = sys.argv[1] if len(sys.argv) > 1 else "when_supported"
s3 = client(checksum=mode)

# put/get/head/delete of 0 B, 1 B and 1 MiB, in both buckets
for bucket in ["logs", "any"]:
    for size in [0, 1, 1024 * 1024]:
        key = f"dir/obj-{size}-{mode}"
        data = os.urandom(size)
        put = s3.put_object(
            Bucket=bucket, Key=key, Body=data, ContentType="text/x-test", Metadata={"color": "blue"},
            CacheControl="max-age=60", ContentDisposition="attachment; filename=x.bin",
        )
        assert put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), put["ETag"]
        got = s3.get_object(Bucket=bucket, Key=key)
        assert got["Body"].read() == data
        assert got["ContentLength"] == size
        assert got["ContentType"] == "text/x-test"
        assert got["Metadata"] == {"color": "blue"}, got["Metadata"]
        assert got["CacheControl"] == "max-age=60"
        assert got["ContentDisposition"] == "attachment; filename=x.bin"
        assert got["ETag"] == put["ETag"]
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["ContentLength"] == size and head["ETag"] == put["ETag"]
        wait_replicated()
        assert len(where(bucket, key)) == REPLICAS[bucket], "the replica count holds"
        s3.delete_object(Bucket=bucket, Key=key)
        expect_error(lambda: s3.get_object(Bucket=bucket, Key=key), "NoSuchKey", 404)
        expect_error(lambda: s3.head_object(Bucket=bucket, Key=key), "404", 404)
        wait_replicated()
        assert where(bucket, key) == [], "the delete reached every replica"
        ok(f"{bucket} {size} B")

# overwrite keeps the newest bytes; deleting a missing key is a 204
s3.put_object(Bucket="logs", Key="over", Body=b"first")
s3.put_object(Bucket="logs", Key="over", Body=b"second!")
assert s3.get_object(Bucket="logs", Key="over")["Body"].read() == b"second!"
assert s3.delete_object(Bucket="logs", Key="never-there")["ResponseMetadata"]["HTTPStatusCode"] == 204
ok("overwrite and idempotent delete")

# keys with characters that need escaping
for key in ["a b+c", "unicodé/ключ/鍵", "sym!@$&'()*,;=", "percent%20literal", "tilde~dash-dot.underscore_"]:
    s3.put_object(Bucket="any", Key=key, Body=key.encode())
    assert s3.get_object(Bucket="any", Key=key)["Body"].read() == key.encode(), key
ok("escaped keys")

# range reads
data = bytes(range(256)) * 4096  # 1 MiB
s3.put_object(Bucket="logs", Key="ranged", Body=data)
for rng, lo, hi in [("bytes=0-0", 0, 0), ("bytes=10-19", 10, 19), ("bytes=1048000-", 1048000, len(data) - 1),
                    ("bytes=-100", len(data) - 100, len(data) - 1), ("bytes=5-99999999", 5, len(data) - 1)]:
    r = s3.get_object(Bucket="logs", Key="ranged", Range=rng)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206, rng
    assert r["ContentRange"] == f"bytes {lo}-{hi}/{len(data)}", (rng, r["ContentRange"])
    assert r["Body"].read() == data[lo:hi + 1], rng
expect_error(lambda: s3.get_object(Bucket="logs", Key="ranged", Range=f"bytes={len(data)}-"), "InvalidRange", 416)
r = s3.get_object(Bucket="logs", Key="ranged", Range="bytes=0-1,5-6")
assert r["ResponseMetadata"]["HTTPStatusCode"] == 200 and len(r["Body"].read()) == len(data), "multi-range is ignored"
ok("ranges")

# conditional reads
etag = s3.head_object(Bucket="logs", Key="ranged")["ETag"]
assert s3.get_object(Bucket="logs", Key="ranged", IfMatch=etag)["ResponseMetadata"]["HTTPStatusCode"] == 200
expect_error(lambda: s3.get_object(Bucket="logs", Key="ranged", IfMatch='"nope"'), "PreconditionFailed", 412)
expect_error(lambda: s3.get_object(Bucket="logs", Key="ranged", IfNoneMatch=etag), "304", 304)
past = time.gmtime(time.time() - 3600)
expect_error(lambda: s3.get_object(Bucket="logs", Key="ranged", IfUnmodifiedSince=time.mktime(past)), "PreconditionFailed", 412)
ok("conditional reads")

# response overrides
r = s3.get_object(Bucket="logs", Key="ranged", ResponseContentType="image/png", ResponseCacheControl="no-cache")
assert r["ContentType"] == "image/png" and r["CacheControl"] == "no-cache", r
ok("response overrides")

# buckets: create (with and without a location constraint), head, list, delete
name = f"made-{mode.replace('_', '-')}"
s3.create_bucket(Bucket=name)
expect_error(lambda: s3.create_bucket(Bucket=name), "BucketAlreadyOwnedByYou", 409)
expect_error(lambda: other_client().create_bucket(Bucket=name), "BucketAlreadyExists", 409)
s3.head_bucket(Bucket=name)
names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
assert {"logs", "any", name} <= set(names), names
assert name not in [b["Name"] for b in other_client().list_buckets()["Buckets"]]
s3.put_object(Bucket=name, Key="k", Body=b"x")
expect_error(lambda: s3.delete_bucket(Bucket=name), "BucketNotEmpty", 409)
s3.delete_object(Bucket=name, Key="k")
s3.delete_bucket(Bucket=name)
expect_error(lambda: s3.head_bucket(Bucket=name), "404", 404)
expect_error(lambda: s3.put_object(Bucket=name, Key="k", Body=b"x"), "NoSuchBucket", 404)
eu = name + "-eu"
s3.create_bucket(Bucket=eu, CreateBucketConfiguration={"LocationConstraint": "eu-central"})
assert s3.get_bucket_location(Bucket=eu)["LocationConstraint"] == "eu-central"
s3.put_object(Bucket=eu, Key="where", Body=b"x")
s3.delete_object(Bucket=eu, Key="where")
s3.delete_bucket(Bucket=eu)
expect_error(lambda: s3.create_bucket(Bucket=name + "-mars", CreateBucketConfiguration={"LocationConstraint": "mars-1"}),
             "InvalidLocationConstraint", 400)
expect_error(lambda: s3.create_bucket(Bucket="Bad_Name"), "InvalidBucketName", 400)
ok("bucket lifecycle")

# tenant isolation
other = other_client()
expect_error(lambda: other.get_object(Bucket="logs", Key="ranged"), "AccessDenied", 403)
expect_error(lambda: other.put_object(Bucket="logs", Key="x", Body=b"x"), "AccessDenied", 403)
expect_error(lambda: other.delete_object(Bucket="logs", Key="ranged"), "AccessDenied", 403)
expect_error(lambda: other.delete_bucket(Bucket="logs"), "AccessDenied", 403)
expect_error(lambda: other.head_bucket(Bucket="logs"), "403", 403)
ok("tenant isolation")

# unsupported features answer NotImplemented, never a wrong success
expect_error(lambda: s3.get_bucket_versioning(Bucket="logs"), "NotImplemented", 501)
expect_error(lambda: s3.put_object_tagging(Bucket="logs", Key="ranged", Tagging={"TagSet": []}), "NotImplemented", 501)
expect_error(lambda: s3.put_object(Bucket="logs", Key="t", Body=b"x", Tagging="a=b"), "NotImplemented", 501)
expect_error(lambda: s3.put_object(Bucket="logs", Key="t", Body=b"x", ServerSideEncryption="AES256"), "NotImplemented", 501)
ok("not implemented")
