"""PUTs one object of argv[3] bytes (deterministic content) to bucket argv[1],
key argv[2], streaming it from a temporary file; prints its sha256."""
import hashlib
import os
import sys
import tempfile

from common import client

bucket, key, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
block = hashlib.sha256(key.encode()).digest() * 32768  # 1 MiB
digest = hashlib.sha256()
with tempfile.NamedTemporaryFile(delete=False) as f:
    left = size
    while left:
        chunk = block[: min(left, len(block))]
        f.write(chunk)
        digest.update(chunk)
        left -= len(chunk)
    path = f.name
with open(path, "rb") as f:
    client().put_object(Bucket=bucket, Key=key, Body=f, ContentLength=size)
os.remove(path)
print(f"sha256 {digest.hexdigest()}")
