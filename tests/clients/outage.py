"""Backend outage, as the clients see it. Phases (argv[1]):
  preload <expected-file>: PUT 40 objects to `pair`, wait until replicated.
  load <expected-file>: 16 threads write 300 new objects and read back the
      preloaded ones three times; the Rust side stops a backend once 40 writes
      are in. No call may fail (the SDK's standard retries are on, as in any
      real client: a request cut mid-body when the backend dies is retried)
      and every read returns the bytes written.
Both append "bucket<TAB>key<TAB>sha256" lines to the expected file.
"""
import hashlib
import random
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from common import client, ok, wait_replicated

phase, path = sys.argv[1], sys.argv[2]
rng = random.Random(17)
s3 = client()
BUCKET = "pair"
pre = {f"pre/{i}": rng.randbytes(rng.choice([0, 10, 5000, 200_000, 1 << 20])) for i in range(40)}
lock = threading.Lock()
out = open(path, "a", buffering=1)


def record(key, data):
    with lock:
        out.write(f"{BUCKET}\t{key}\t{hashlib.sha256(data).hexdigest()}\n")


if phase == "preload":
    for key, data in pre.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        record(key, data)
    wait_replicated()
    ok("preloaded and replicated")
elif phase == "load":
    local = threading.local()

    def c():
        if not hasattr(local, "c"):
            local.c = client(attempts=3)
        return local.c

    def write(i):
        data = random.Random(i).randbytes(random.Random(i).choice([0, 100, 70_000, 700_000]))
        key = f"out/{i}"
        c().put_object(Bucket=BUCKET, Key=key, Body=data)
        record(key, data)
        return "w"

    def read(key):
        got = c().get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert got == pre[key], key
        head = c().head_object(Bucket=BUCKET, Key=key)
        assert head["ContentLength"] == len(pre[key])
        return "r"

    jobs = [(write, i) for i in range(300)] + [(read, k) for k in pre] * 3
    rng.shuffle(jobs)
    # the first 40 writes happen before the outage starts
    jobs = [(write, i) for i in range(300, 340)] + jobs
    with ThreadPoolExecutor(16) as pool:
        done = list(pool.map(lambda j: j[0](j[1]), jobs))
    ok(f"{done.count('w')} writes and {done.count('r')} reads, no errors, during the outage")
