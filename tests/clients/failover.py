"""Read failover. Phases (argv[1]):
  put   <bucket> <key>: PUT through sluice, wait until replication put the
        object on every replica (asked of the backends).
  read  <bucket> <key>: GET and HEAD through sluice must return the bytes.
"""
import sys

from common import backends, client, ok, wait_replicated, where

phase, bucket, key = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = client()
data = (b"failover payload " * 4096)[:60000]
if phase == "put":
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="text/plain")
    wait_replicated()
    assert sorted(where(bucket, key)) == sorted(b["id"] for b in backends() if b["region"].startswith("eu-"))
    ok("on both replicas")
elif phase == "read":
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == data and got["ContentType"] == "text/plain"
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(data)
    r = s3.get_object(Bucket=bucket, Key=key, Range="bytes=5-9")
    assert r["Body"].read() == data[5:10]
    ok("read served by a replica")
