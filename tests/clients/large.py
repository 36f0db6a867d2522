"""A large object (size from argv, default 200 MiB) streamed through sluice with a
single PUT and GET; the bytes are compared by sha256 without holding them in memory."""
import hashlib
import os
import sys

from common import client, ok, wait_replicated, where

size = int(sys.argv[1]) if len(sys.argv) > 1 else 200 * 1024 * 1024
path = sys.argv[2]
chunk = 1024 * 1024
digest = hashlib.sha256()
seed = os.urandom(chunk)
with open(path, "wb") as f:
    written = 0
    i = 0
    while written < size:
        block = bytes([i & 0xFF]) + seed[1:] if written + chunk <= size else seed[: size - written]
        block = block[: size - written]
        f.write(block)
        digest.update(block)
        written += len(block)
        i += 1
want = digest.hexdigest()

s3 = client(checksum="when_required")
with open(path, "rb") as f:
    s3.put_object(Bucket="logs", Key="large", Body=f, ContentLength=size)
head = s3.head_object(Bucket="logs", Key="large")
assert head["ContentLength"] == size
body = s3.get_object(Bucket="logs", Key="large")["Body"]
got = hashlib.sha256()
n = 0
for part in iter(lambda: body.read(chunk), b""):
    got.update(part)
    n += len(part)
assert n == size and got.hexdigest() == want, (n, size)
wait_replicated(timeout=300)
assert len(where("logs", "large")) == 2, "both replicas hold the object"
s3.delete_object(Bucket="logs", Key="large")
wait_replicated()
assert where("logs", "large") == []
os.remove(path)
ok(f"{size} bytes round trip")
