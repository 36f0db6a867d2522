"""A multipart upload of SIZE bytes (default 5 GiB) in 64 MiB parts whose
bytes are generated on the fly, then a streamed GET compared by sha256: the
object never exists in this process's memory, and sluice's memory stays
bounded (the Rust side reads its peak RSS).

Usage: huge_multipart.py [size_bytes]
"""
import hashlib
import sys

from common import client, ok

size = int(sys.argv[1]) if len(sys.argv) > 1 else 5 * 1024 ** 3
part_size = 64 * 1024 * 1024
s3 = client(checksum="when_required")
block = bytes(range(256)) * (part_size // 256)
want = hashlib.sha256()
up = s3.create_multipart_upload(Bucket="any", Key="huge")
parts, left, n = [], size, 1
while left > 0:
    this = min(part_size, left)
    data = block[:this] if n % 2 else block[::-1][:this]
    want.update(data)
    r = s3.upload_part(Bucket="any", Key="huge", UploadId=up["UploadId"], PartNumber=n, Body=data)
    parts.append({"PartNumber": n, "ETag": r["ETag"]})
    left -= this
    n += 1
s3.complete_multipart_upload(Bucket="any", Key="huge", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
assert s3.head_object(Bucket="any", Key="huge")["ContentLength"] == size
got = hashlib.sha256()
body = s3.get_object(Bucket="any", Key="huge")["Body"]
total = 0
for piece in iter(lambda: body.read(8 * 1024 * 1024), b""):
    got.update(piece)
    total += len(piece)
assert total == size and got.hexdigest() == want.hexdigest()
s3.delete_object(Bucket="any", Key="huge")
ok(f"{size} bytes in {len(parts)} parts")
