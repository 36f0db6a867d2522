"""Backend outage, as the clients see it. Phases (argv[1]):
  preload <expected-file>: PUT 40 objects to `pair`, wait until replicated.
  load <expected-file>: while one backend is down, 16 threads write 120 new
      objects and read back every preloaded one; no request may fail and
      every read returns the bytes written.
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
            local.c = client()
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

    jobs = [(write, i) for i in range(120)] + [(read, k) for k in pre] * 2
    rng.shuffle(jobs)
    with ThreadPoolExecutor(16) as pool:
        done = list(pool.map(lambda j: j[0](j[1]), jobs))
    ok(f"{done.count('w')} writes and {done.count('r')} reads, no errors, during the outage")
