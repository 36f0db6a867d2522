"""Residency and spread: every object of `logs` (residency eu-west + eu-central)
lands on exactly one backend of those regions, asked of the backends directly;
`any` (no residency) spreads over all three."""
from collections import Counter

from common import backend_keys, backends, client, ok

s3 = client()
N = 60
for i in range(N):
    s3.put_object(Bucket="logs", Key=f"spread/{i}", Body=b"x")
    s3.put_object(Bucket="any", Key=f"spread/{i}", Body=b"y")

by_region = {b["region"]: b for b in backends()}
held = {b["id"]: set(k for k in backend_keys(b, "logs") if k.startswith("spread/")) for b in backends()}
assert held[by_region["us-east"]["id"]] == set(), "us-east is outside the residency"
eu = [held[by_region[r]["id"]] for r in ["eu-west", "eu-central"]]
assert eu[0].isdisjoint(eu[1]), "each object has one copy until replication runs"
assert eu[0] | eu[1] == {f"spread/{i}" for i in range(N)}
assert len(eu[0]) > 5 and len(eu[1]) > 5, [len(x) for x in eu]
ok(f"logs spread over eu-west/eu-central: {[len(x) for x in eu]}")

counts = Counter()
for b in backends():
    ks = [k for k in backend_keys(b, "any") if k.startswith("spread/")]
    counts[b["id"]] = len(ks)
assert sum(counts.values()) == N and all(v > 3 for v in counts.values()), counts
ok(f"any spread over all backends: {dict(counts)}")

# print the primary of a few keys for the Rust side to compare with placement::place
for i in range(5):
    for b in backends():
        if f"spread/{i}" in held[b["id"]]:
            print(f"primary spread/{i} {b['id']}")
