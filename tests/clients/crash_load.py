"""Crash load: PUTs of 0 B to 8 MiB (log-uniform) from many threads; every
PUT answered 200 is appended to the acks file at once (bucket, key, sha256),
so the acks survive the kill of sluice that the Rust side does mid-load.

Usage: crash_load.py <acks-file> <puts> <threads> <seed>
"""
import hashlib
import math
import random
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from botocore.config import Config

from common import client, ok

acks_path, n, threads, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
MAX = 8 << 20
rng = random.Random(seed)
POOL = rng.randbytes(2 * MAX)
jobs = []
for i in range(n):
    size = 0 if i % 50 == 0 else int(math.exp(rng.uniform(0, math.log(MAX))))
    jobs.append((["logs", "triple"][i % 2], f"crash/{i}", rng.randrange(MAX), min(size, MAX)))

local = threading.local()
lock = threading.Lock()
acks = open(acks_path, "a", buffering=1)
counts = {"ok": 0, "failed": 0}


def s3():
    if not hasattr(local, "c"):
        local.c = client(connect_timeout=5, read_timeout=60)
    return local.c


def put(job):
    bucket, key, off, size = job
    data = POOL[off : off + size]
    try:
        s3().put_object(Bucket=bucket, Key=key, Body=data)
    except Exception:
        with lock:
            counts["failed"] += 1
        return
    with lock:
        acks.write(f"{bucket}\t{key}\t{hashlib.sha256(data).hexdigest()}\n")
        acks.flush()
        counts["ok"] += 1


with ThreadPoolExecutor(threads) as pool:
    list(pool.map(put, jobs))
acks.close()
ok(f"acknowledged {counts['ok']} failed {counts['failed']}")
