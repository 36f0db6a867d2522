"""Residency and spread, asked of the backends directly. Every object of `logs`
(residency eu-west + eu-central, two replicas) ends up on both eu backends and
never on us-east; `any` (no residency, one replica) spreads over all three,
one copy per object."""
from collections import Counter

from common import backend_keys, backends, client, ok, wait_replicated

s3 = client()
N = 60
for i in range(N):
    s3.put_object(Bucket="logs", Key=f"spread/{i}", Body=b"x")
    s3.put_object(Bucket="any", Key=f"spread/{i}", Body=b"y")
wait_replicated()

by_region = {b["region"]: b for b in backends()}
held = {b["id"]: set(k for k in backend_keys(b, "logs") if k.startswith("spread/")) for b in backends()}
assert held[by_region["us-east"]["id"]] == set(), "us-east is outside the residency"
want = {f"spread/{i}" for i in range(N)}
for r in ["eu-west", "eu-central"]:
    assert held[by_region[r]["id"]] == want, f"{r} lacks {want - held[by_region[r]['id']]}"
ok("logs: both eu backends hold every object, us-east none")

any_held = {b["id"]: set(k for k in backend_keys(b, "any") if k.startswith("spread/")) for b in backends()}
counts = Counter({bid: len(ks) for bid, ks in any_held.items()})
assert sum(counts.values()) == N and all(v > 3 for v in counts.values()), counts
ok(f"any spread over all backends, one copy each: {dict(counts)}")

# print where a few keys of `any` live, for the Rust side to compare with placement::place
for i in range(5):
    for bid, ks in any_held.items():
        if f"spread/{i}" in ks:
            print(f"primary spread/{i} {bid}")
