"""boto3 over HTTPS: SLUICE_ENDPOINT is https://..., SLUICE_CA the CA that
signed sluice's certificate. Over HTTPS botocore sends aws-chunked bodies
with trailer checksums by default, so this covers the streaming mode too."""
import hashlib
import os
import tempfile

import boto3
from botocore.config import Config

from common import ok

s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["SLUICE_ENDPOINT"],
    verify=os.environ["SLUICE_CA"],
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    region_name="us-east-1",
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"}),
)
small = b"over tls" * 1000
s3.put_object(Bucket="any", Key="tls/small", Body=small)
assert s3.get_object(Bucket="any", Key="tls/small")["Body"].read() == small

data = os.urandom(12 << 20)
with tempfile.TemporaryDirectory() as d:
    src, dst = os.path.join(d, "up"), os.path.join(d, "down")
    with open(src, "wb") as f:
        f.write(data)
    s3.upload_file(src, "logs", "tls/big")  # multipart: 8 MiB parts
    s3.download_file("logs", "tls/big", dst)
    with open(dst, "rb") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="logs", Prefix="tls/")["Contents"]]
assert keys == ["tls/big"], keys
ok("boto3 over HTTPS: put/get, multipart upload_file/download_file, listing")
