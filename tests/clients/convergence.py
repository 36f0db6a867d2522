"""Convergence: a batch of writes, overwrites, deletes (single and batch),
multipart uploads and copies over buckets with 1, 2 and 3 replicas, then a
wait until the replication queue is empty. Writes what each key must hold
(sha256, or "-" for deleted) to argv[1], for the Rust side to check every
backend directly against placement.

Usage: convergence.py <expected-file> <seed>
"""
import hashlib
import random
import sys

from common import client, ok, wait_replicated

out_path = sys.argv[1]
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 5)
s3 = client()
BUCKETS = ["logs", "any", "triple", "pair"]
SIZES = [0, 1, 1000, 100_000, 1 << 20, 6 << 20 | 12345]
expected = {}


def body(size):
    return rng.randbytes(size)


def put(bucket, key, data):
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    expected[(bucket, key)] = hashlib.sha256(data).hexdigest()


for bucket in BUCKETS:
    keys = [f"conv/{i}" for i in range(30)] + ["conv/sp ace+plus", "conv/ü/é.txt", "conv/%41"]
    for k in keys:
        put(bucket, k, body(rng.choice(SIZES)))
    for k in rng.sample(keys, 8):
        put(bucket, k, body(rng.choice(SIZES)))
    gone = rng.sample(keys, 10)
    for k in gone[:5]:
        s3.delete_object(Bucket=bucket, Key=k)
        expected[(bucket, k)] = "-"
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in gone[5:]]})
    assert len(r.get("Deleted", [])) == 5 and not r.get("Errors"), r
    for k in gone[5:]:
        expected[(bucket, k)] = "-"
    # a multipart upload of three parts
    mp = s3.create_multipart_upload(Bucket=bucket, Key="conv/multi")
    parts, whole = [], b""
    for n in range(1, 4):
        data = body((5 << 20) if n < 3 else 777)
        whole += data
        e = s3.upload_part(Bucket=bucket, Key="conv/multi", UploadId=mp["UploadId"], PartNumber=n, Body=data)
        parts.append({"PartNumber": n, "ETag": e["ETag"]})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="conv/multi", UploadId=mp["UploadId"], MultipartUpload={"Parts": parts}
    )
    expected[(bucket, "conv/multi")] = hashlib.sha256(whole).hexdigest()
    # server-side copies
    src = next(k for k in keys if expected[(bucket, k)] != "-")
    s3.copy_object(Bucket=bucket, Key="conv/copied", CopySource={"Bucket": bucket, "Key": src})
    expected[(bucket, "conv/copied")] = expected[(bucket, src)]
    ok(f"{bucket}: {len(keys)} keys written, 8 overwritten, 10 deleted, multipart and copy")

wait_replicated(timeout=300)
with open(out_path, "w") as f:
    for (bucket, key), digest in sorted(expected.items()):
        f.write(f"{bucket}\t{key}\t{digest}\n")
ok(f"queue drained; {len(expected)} expectations written")
