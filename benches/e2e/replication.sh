#!/usr/bin/env bash
# Replication throughput, side by side with the AWS CLI in one run.
#
# Two s3s-fs backends A and B. Objects are written straight into the bucket's
# physical bucket on A; sluice is then restarted with the bucket allowed on A
# and B and `replicas = 2`, and `sluice repair` queues one copy per object:
# the time from the repair command to an empty queue is sluice's replication
# time. The baseline copies the same objects from A to B with the AWS CLI
# (`aws s3 sync` A -> local disk -> B: the CLI cannot copy between two
# endpoints otherwise). Writes bench-results/<date>-replication.md.
#
#   benches/e2e/replication.sh [SMALL_COUNT] [BIG_COUNT]
#
# Needs s3s-fs and the AWS CLI on PATH (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/../.."
SMALL_COUNT=${1:-10000}
SMALL_SIZE=16384
BIG_COUNT=${2:-10}
BIG_SIZE=268435456
WORKERS_PER_CORE=${WORKERS_PER_CORE:-8}
cargo build --release --bin sluice --bin sluice-bench >/dev/null
BENCH=target/release/sluice-bench
SLUICE=target/release/sluice
TMP=$(mktemp -d -p "${BENCH_TMP:-/tmp}")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
A_PORT=$(free_port)
B_PORT=$(free_port)
mkdir -p "$TMP/a" "$TMP/b"
s3s-fs --host 127.0.0.1 --port "$A_PORT" --access-key AKEY --secret-key ASECRETASECRET "$TMP/a" >/dev/null 2>&1 &
s3s-fs --host 127.0.0.1 --port "$B_PORT" --access-key BKEY --secret-key BSECRETBSECRET "$TMP/b" >/dev/null 2>&1 &
A_EP="http://127.0.0.1:$A_PORT"
B_EP="http://127.0.0.1:$B_PORT"

config() { # $1: residency list, $2: replicas
  cat > "$TMP/sluice.toml" <<TOML
[server]
listen = "127.0.0.1:0"
workers = 2
data_dir = "$TMP/data"
[log]
level = "warn"
[replication]
workers_per_core = $WORKERS_PER_CORE
[[backend]]
id = "a"
endpoint = "$A_EP"
region = "ra"
access_key = "AKEY"
secret_key = "ASECRETASECRET"
[[backend]]
id = "b"
endpoint = "$B_EP"
region = "rb"
access_key = "BKEY"
secret_key = "BSECRETBSECRET"
[[tenant]]
name = "bench"
keys = [{ access_key = "AKBENCH", secret_key = "benchsecret" }]
[[bucket]]
tenant = "bench"
name = "small"
residency = $1
replicas = $2
[[bucket]]
tenant = "bench"
name = "big"
residency = $1
replicas = $2
TOML
}
start_sluice() {
  $SLUICE serve --config "$TMP/sluice.toml" > "$TMP/sluice.out" 2> "$TMP/sluice.err" &
  SLUICE_PID=$!
  for _ in $(seq 100); do grep -q listening "$TMP/sluice.out" 2>/dev/null && break; sleep 0.1; done
  SLUICE_EP=$(sed -n 's/^sluice listening on //p' "$TMP/sluice.out")
}
pending() { curl -s "$SLUICE_EP/metrics" | awk '$1 == "sluice_replication_pending_tasks" {print $2}'; }
now() { date +%s.%N; }
a() { AWS_ACCESS_KEY_ID=AKEY AWS_SECRET_ACCESS_KEY=ASECRETASECRET AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url "$A_EP" "$@"; }
b() { AWS_ACCESS_KEY_ID=BKEY AWS_SECRET_ACCESS_KEY=BSECRETBSECRET AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url "$B_EP" "$@"; }

# 1. The buckets live on A only; sluice creates their physical buckets there.
sleep 0.5
config '["ra"]' 1
start_sluice
sleep 1
kill "$SLUICE_PID"; wait "$SLUICE_PID" 2>/dev/null || true
physical() { $SLUICE discover --config "$TMP/sluice.toml" --json |
  python3 -c 'import json,sys; print(next(b["physical"] for b in json.load(sys.stdin) if b["bucket"] == sys.argv[1]))' "$1"; }
SMALL_PHYS=$(physical small)
BIG_PHYS=$(physical big)

# 2. Fill A directly (not through sluice: only the copies are measured).
put_a() { # bucket size count concurrency
  $BENCH put --endpoint "$A_EP" --access-key AKEY --secret-key ASECRETASECRET --bucket "$1" \
    --size "$2" --count "$3" --concurrency "$4" --prefix obj- >/dev/null
}
put_a "$SMALL_PHYS" "$SMALL_SIZE" "$SMALL_COUNT" 8
put_a "$BIG_PHYS" "$BIG_SIZE" "$BIG_COUNT" 2

# 3. The AWS CLI baseline: A -> local disk -> B.
b s3 mb s3://baseline-small >/dev/null
b s3 mb s3://baseline-big >/dev/null
cli_copy() { # physical bucket on A, bucket on B
  local t0 t1
  t0=$(now)
  a s3 sync --quiet "s3://$1" "$TMP/local-$2"
  b s3 sync --quiet "$TMP/local-$2" "s3://$2"
  t1=$(now)
  rm -rf "$TMP/local-$2"
  python3 -c "print($t1 - $t0)"
}

# 4. sluice: allow A and B, two replicas, repair, wait for an empty queue.
config '["ra", "rb"]' 2
start_sluice
sleep 1
sluice_copy() { # bucket
  local t0 t1
  t0=$(now)
  $SLUICE repair --config "$TMP/sluice.toml" --bucket "$1" >/dev/null
  while [ "$(pending)" != "0" ]; do sleep 0.05; done
  t1=$(now)
  python3 -c "print($t1 - $t0)"
}
CLI_SMALL=$(cli_copy "$SMALL_PHYS" baseline-small)
SL_SMALL=$(sluice_copy small)
CLI_BIG=$(cli_copy "$BIG_PHYS" baseline-big)
SL_BIG=$(sluice_copy big)
cat > "$TMP/check.py" <<'PY'
import json, sys
r = json.load(sys.stdin)
print(" ".join("%s:objects=%d,under_replicated=%d" % (b["bucket"], b["objects"], b["under_replicated"]) for b in r))
PY
CHECK=$($SLUICE discover --config "$TMP/sluice.toml" --json | python3 "$TMP/check.py")
HWM=$(awk '/VmHWM/ {print $2}' /proc/$SLUICE_PID/status)

COMMIT=$(git rev-parse --short HEAD)
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
OUT="bench-results/$(date +%Y-%m-%d)-replication.md"
python3 - "$OUT" "$COMMIT" "$CPU" "$SMALL_COUNT" "$SMALL_SIZE" "$BIG_COUNT" "$BIG_SIZE" \
  "$CLI_SMALL" "$SL_SMALL" "$CLI_BIG" "$SL_BIG" "$WORKERS_PER_CORE" "$HWM" "$CHECK" <<'PY'
import sys
out, commit, cpu, sc, ss, bc, bs, cli_s, sl_s, cli_b, sl_b, wpc, hwm, check = sys.argv[1:]
sc, ss, bc, bs = int(sc), int(ss), int(bc), int(bs)
cli_s, sl_s, cli_b, sl_b = map(float, (cli_s, sl_s, cli_b, sl_b))
mb = bc * bs / 1e6
lines = [
    "# Replication throughput: sluice workers vs the AWS CLI, side by side\n",
    f"- Commit: {commit}",
    f"- Command: `benches/e2e/replication.sh {sc} {bc}` (WORKERS_PER_CORE={wpc})",
    f"- Machine: shared VM, 2 vCPU {cpu}, Linux; two s3s-fs 0.14.1 backends, sluice (release, 2 workers, io_uring) and the AWS CLI v1 on the same 2 cores",
    "- sluice: objects written straight to backend A; sluice restarted with the buckets allowed on A and B and `replicas = 2`; timed from `sluice repair --bucket` to `sluice_replication_pending_tasks == 0` (scan, task commits, HEAD + GET->PUT + verifying HEAD per object).",
    "- AWS CLI: `aws s3 sync` A -> local disk, then local disk -> B (default 10 concurrent requests); the CLI cannot copy between two endpoints any other way.",
    "",
    "| set | AWS CLI | sluice | ratio (sluice / CLI) |",
    "|---|---|---|---|",
    f"| {sc} x {ss // 1024} KiB | {sc / cli_s:.0f} objects/s ({cli_s:.1f} s) | {sc / sl_s:.0f} objects/s ({sl_s:.1f} s) | {cli_s / sl_s:.2f}x |",
    f"| {bc} x {bs >> 20} MiB | {mb / cli_b:.0f} MB/s ({cli_b:.1f} s) | {mb / sl_b:.0f} MB/s ({sl_b:.1f} s) | {cli_b / sl_b:.2f}x |",
    "",
    f"After the run, `sluice discover`: {check}",
    f"sluice peak RSS (VmHWM) over the replication: {int(hwm) / 1024:.1f} MiB",
]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
