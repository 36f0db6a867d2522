"""Read failover. Phases (argv[1]):
  put   <bucket> <key>: PUT through sluice, then copy the same bytes straight to
        the other eligible backends (replication arrives later), print the primary.
  read  <bucket> <key>: GET and HEAD through sluice must return the bytes.
"""
import sys

from common import backend_client, backends, client, ok, physical, where

phase, bucket, key = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = client()
data = (b"failover payload " * 4096)[:60000]
if phase == "put":
    s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="text/plain")
    [primary] = where(bucket, key)
    for b in backends():
        if b["id"] != primary and b["region"] in ("eu-west", "eu-central"):
            backend_client(b).put_object(Bucket=physical(bucket), Key=key, Body=data, ContentType="text/plain")
    print(f"primary {primary}")
elif phase == "read":
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == data and got["ContentType"] == "text/plain"
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(data)
    r = s3.get_object(Bucket=bucket, Key=key, Range="bytes=5-9")
    assert r["Body"].read() == data[5:10]
    ok("read served by a replica")
