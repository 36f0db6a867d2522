"""CopyObject within a bucket and across buckets, metadata directives,
conditional copies, DeleteObjects and conditional PUTs."""
import hashlib
import time

from botocore.exceptions import ClientError

from common import client, expect_error, ok, where

s3 = client()
data = b"copy me " * 100_000
put = s3.put_object(Bucket="logs", Key="src/obj", Body=data, ContentType="text/plain", Metadata={"a": "1"})
etag = put["ETag"]

# within a bucket (COPY keeps the metadata), across buckets (other residency)
for bucket, key in [("logs", "dst/same-bucket"), ("any", "dst/other-bucket")]:
    r = s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": "logs", "Key": "src/obj"})
    assert r["CopyObjectResult"]["ETag"] == etag
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == data and got["ContentType"] == "text/plain" and got["Metadata"] == {"a": "1"}
    ok(f"copy to {bucket}")
# REPLACE takes the request's metadata
s3.copy_object(Bucket="any", Key="dst/replaced", CopySource={"Bucket": "logs", "Key": "src/obj"},
               MetadataDirective="REPLACE", ContentType="image/png", Metadata={"b": "2"})
got = s3.head_object(Bucket="any", Key="dst/replaced")
assert got["ContentType"] == "image/png" and got["Metadata"] == {"b": "2"}, got
# copying onto itself needs REPLACE
expect_error(lambda: s3.copy_object(Bucket="logs", Key="src/obj", CopySource={"Bucket": "logs", "Key": "src/obj"}),
             "InvalidRequest", 400)
s3.copy_object(Bucket="logs", Key="src/obj", CopySource={"Bucket": "logs", "Key": "src/obj"},
               MetadataDirective="REPLACE", ContentType="text/html")
assert s3.head_object(Bucket="logs", Key="src/obj")["ContentType"] == "text/html"
ok("metadata directives")

# conditional copies
expect_error(lambda: s3.copy_object(Bucket="any", Key="c1", CopySource={"Bucket": "logs", "Key": "src/obj"},
                                    CopySourceIfMatch='"nope"'), "PreconditionFailed", 412)
expect_error(lambda: s3.copy_object(Bucket="any", Key="c2", CopySource={"Bucket": "logs", "Key": "src/obj"},
                                    CopySourceIfNoneMatch=etag), "PreconditionFailed", 412)
expect_error(lambda: s3.copy_object(Bucket="any", Key="c3", CopySource={"Bucket": "logs", "Key": "src/obj"},
                                    CopySourceIfUnmodifiedSince=time.time() - 3600), "PreconditionFailed", 412)
s3.copy_object(Bucket="any", Key="c4", CopySource={"Bucket": "logs", "Key": "src/obj"}, CopySourceIfMatch=etag)
assert where("any", "c1") == [] and where("any", "c2") == [] and where("any", "c3") == []
expect_error(lambda: s3.copy_object(Bucket="any", Key="c5", CopySource={"Bucket": "logs", "Key": "missing"}),
             "NoSuchKey", 404)
ok("conditional copies")

# DeleteObjects, quiet and not, with a per-key error
for i in range(5):
    s3.put_object(Bucket="any", Key=f"del/{i}", Body=b"x")
r = s3.delete_objects(Bucket="any", Delete={"Objects": [{"Key": f"del/{i}"} for i in range(3)] + [{"Key": "del/never"}]})
assert sorted(d["Key"] for d in r["Deleted"]) == ["del/0", "del/1", "del/2", "del/never"], r
assert not r.get("Errors")
r = s3.delete_objects(Bucket="any", Delete={"Quiet": True, "Objects": [{"Key": "del/3"}, {"Key": "del/4"}]})
assert not r.get("Deleted") and not r.get("Errors"), r
r = s3.delete_objects(Bucket="any", Delete={"Objects": [{"Key": "v", "VersionId": "123"}, {"Key": "ok-key"}]})
assert [(e["Key"], e["Code"]) for e in r.get("Errors", [])] == [("v", "NotImplemented")], r
assert [d["Key"] for d in r["Deleted"]] == ["ok-key"], r
expect_error(lambda: s3.delete_objects(Bucket="any", Delete={"Objects": [{"Key": "x" * 1025}]}), "KeyTooLongError", 400)
for i in range(5):
    assert where("any", f"del/{i}") == []
ok("DeleteObjects")

# conditional writes
s3.put_object(Bucket="logs", Key="cond/new", Body=b"1", IfNoneMatch="*")
expect_error(lambda: s3.put_object(Bucket="logs", Key="cond/new", Body=b"2", IfNoneMatch="*"), "PreconditionFailed", 412)
cur = s3.head_object(Bucket="logs", Key="cond/new")["ETag"]
expect_error(lambda: s3.put_object(Bucket="logs", Key="cond/new", Body=b"3", IfMatch='"abc"'), "PreconditionFailed", 412)
s3.put_object(Bucket="logs", Key="cond/new", Body=b"4", IfMatch=cur)
assert s3.get_object(Bucket="logs", Key="cond/new")["Body"].read() == b"4"
expect_error(lambda: s3.put_object(Bucket="logs", Key="cond/absent", Body=b"5", IfMatch=cur), "NoSuchKey", 404)
ok("conditional PUT")
