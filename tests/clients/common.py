"""Shared helpers for the client scripts run by the Rust integration tests.

The harness passes the sluice endpoint and credentials in the environment
(SLUICE_ENDPOINT, AWS_ACCESS_KEY_ID, ...), the backends as SLUICE_BACKENDS
(JSON) and the physical bucket names as PHYSICAL_<BUCKET>.
"""
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["SLUICE_ENDPOINT"]
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")


def client(access_key=None, secret_key=None, checksum="when_supported", addressing="path", attempts=1, **cfg):
    """A boto3 S3 client for sluice (acme's key unless told otherwise); no
    retries unless `attempts` says so."""
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        aws_access_key_id=access_key or os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret_key or os.environ["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
        config=Config(
            s3={"addressing_style": addressing},
            signature_version="s3v4",
            request_checksum_calculation=checksum,
            response_checksum_validation="when_required",
            retries={"max_attempts": attempts, "mode": "standard"},
            **cfg,
        ),
    )


def other_client():
    """A client with the other tenant's key."""
    return client(os.environ["OTHER_ACCESS_KEY_ID"], os.environ["OTHER_SECRET_ACCESS_KEY"])


def backends():
    return json.loads(os.environ["SLUICE_BACKENDS"])


def backend_client(b):
    """A boto3 client talking straight to one backend with its own credentials."""
    return boto3.client(
        "s3",
        endpoint_url=b["endpoint"],
        aws_access_key_id=b["access_key"],
        aws_secret_access_key=b["secret_key"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def physical(bucket):
    return os.environ["PHYSICAL_" + bucket.upper()]


def backend_keys(b, bucket):
    """Keys a backend holds in the physical bucket of `bucket`, asked of the backend itself."""
    c = backend_client(b)
    keys = []
    try:
        # Paged with StartAfter: s3s-fs's continuation tokens lose keys with
        # some characters.
        while True:
            page = c.list_objects_v2(Bucket=physical(bucket), StartAfter=keys[-1] if keys else "")
            keys.extend(o["Key"] for o in page.get("Contents", []))
            if not page.get("IsTruncated") or not page.get("Contents"):
                break
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise
    return keys


def where(bucket, key):
    """Ids of the backends holding `key` of `bucket`."""
    found = []
    for b in backends():
        try:
            backend_client(b).head_object(Bucket=physical(bucket), Key=key)
            found.append(b["id"])
        except ClientError as e:
            if e.response["ResponseMetadata"]["HTTPStatusCode"] != 404:
                raise
    return found


def expect_error(fn, code, status):
    """Calls fn and asserts it fails with S3 error `code` and HTTP `status`."""
    try:
        fn()
    except ClientError as e:
        got_code = e.response.get("Error", {}).get("Code")
        got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert (got_code, got_status) == (code, status), f"expected {code}/{status}, got {got_code}/{got_status}: {e}"
        return e
    raise AssertionError(f"expected {code}/{status}, but the call succeeded")


def ok(msg):
    print("ok:", msg)
    sys.stdout.flush()


def metric(name):
    """The value of an unlabelled metric on sluice's /metrics."""
    import urllib.request

    with urllib.request.urlopen(ENDPOINT + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"metric {name} not exported")


def wait_replicated(timeout=60):
    """Waits until sluice has no pending replication task (the replicas hold
    every acknowledged write); fails after `timeout` seconds."""
    import time

    deadline = time.time() + timeout
    while True:
        pending = metric("sluice_replication_pending_tasks")
        if pending == 0:
            return
        if time.time() > deadline:
            raise AssertionError(f"replication did not drain: {pending} tasks pending after {timeout}s")
        time.sleep(0.05)
