"""Objects for the repair test: 60 each in `pair`, `grow` and `any`, written
and replicated; the expectations go to argv[1]."""
import hashlib
import random
import sys

from common import client, ok, wait_replicated

rng = random.Random(23)
s3 = client()
with open(sys.argv[1], "w") as out:
    for bucket in ["pair", "grow", "any"]:
        for i in range(60):
            data = rng.randbytes(rng.choice([0, 50, 4000, 300_000]))
            s3.put_object(Bucket=bucket, Key=f"r/{i}", Body=data)
            out.write(f"{bucket}\tr/{i}\t{hashlib.sha256(data).hexdigest()}\n")
wait_replicated()
ok("180 objects written and replicated")
