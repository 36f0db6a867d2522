#!/usr/bin/env bash
# End-to-end load run: the same requests (sluice-bench) through sluice and
# straight to its backend (s3s-fs), side by side in one run, so the result is
# a ratio on the same noisy machine. Writes bench-results/<date>-e2e.md.
#
#   benches/e2e/run.sh [SIZE_BYTES] [ROUNDS]
#
# Needs s3s-fs and the AWS CLI on PATH (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE=${1:-1073741824}
ROUNDS=${2:-2}
SMALL=4096
SMALL_COUNT=2000
cargo build --release --bin sluice --bin sluice-bench >/dev/null
BENCH=target/release/sluice-bench
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BE_PORT=$(free_port)
mkdir -p "$TMP/be"
s3s-fs --host 127.0.0.1 --port "$BE_PORT" --access-key BEKEY --secret-key BESECRETBESECRET "$TMP/be" >/dev/null 2>&1 &
cat > "$TMP/sluice.toml" <<TOML
[server]
listen = "127.0.0.1:0"
workers = 2
data_dir = "$TMP/data"
[log]
level = "warn"
[[backend]]
id = "be"
endpoint = "http://127.0.0.1:$BE_PORT"
region = "r1"
access_key = "BEKEY"
secret_key = "BESECRETBESECRET"
[[tenant]]
name = "bench"
keys = [{ access_key = "AKBENCH", secret_key = "benchsecret" }]
[[bucket]]
tenant = "bench"
name = "bench"
replicas = 1
TOML
sleep 0.5
target/release/sluice serve --config "$TMP/sluice.toml" > "$TMP/sluice.out" 2> "$TMP/sluice.err" &
SLUICE_PID=$!
for _ in $(seq 100); do grep -q listening "$TMP/sluice.out" 2>/dev/null && break; sleep 0.1; done
SLUICE_EP=$(sed -n 's/^sluice listening on //p' "$TMP/sluice.out")
BE_EP="http://127.0.0.1:$BE_PORT"
AWS_ACCESS_KEY_ID=BEKEY AWS_SECRET_ACCESS_KEY=BESECRETBESECRET AWS_DEFAULT_REGION=us-east-1 \
  aws --endpoint-url "$BE_EP" s3 mb s3://direct >/dev/null

sl() { $BENCH "$1" --endpoint "$SLUICE_EP" --access-key AKBENCH --secret-key benchsecret --bucket bench "${@:2}"; }
be() { $BENCH "$1" --endpoint "$BE_EP" --access-key BEKEY --secret-key BESECRETBESECRET --bucket direct "${@:2}"; }
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }

RESULTS="$TMP/results"
: > "$RESULTS"
for round in $(seq "$ROUNDS"); do
  for target in be sl; do
    put=$($target put --size "$SIZE" --count 1 --mode chunked-signed --prefix "big-$round-")
    get=$($target get --size "$SIZE" --count 1 --prefix "big-$round-")
    echo "$round $target big-put $(field "$put" mib_per_s)" >> "$RESULTS"
    echo "$round $target big-get $(field "$get" mib_per_s)" >> "$RESULTS"
    put=$($target put --size "$SMALL" --count "$SMALL_COUNT" --concurrency 8 --mode sha256 --prefix "small-$round-")
    get=$($target get --size "$SMALL" --count "$SMALL_COUNT" --concurrency 8 --prefix "small-$round-")
    echo "$round $target small-put $(field "$put" req_per_s) $(field "$put" p50_ms) $(field "$put" p99_ms)" >> "$RESULTS"
    echo "$round $target small-get $(field "$get" req_per_s) $(field "$get" p50_ms) $(field "$get" p99_ms)" >> "$RESULTS"
  done
done
HWM=$(awk '/VmHWM/ {print $2}' /proc/$SLUICE_PID/status)
COMMIT=$(git rev-parse --short HEAD)
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
OUT="bench-results/$(date +%Y-%m-%d)-e2e.md"
python3 - "$RESULTS" "$HWM" "$COMMIT" "$CPU" "$SIZE" "$ROUNDS" "$OUT" <<'PY'
import sys, statistics
path, hwm, commit, cpu, size, rounds, out = sys.argv[1:]
rows = [l.split() for l in open(path)]
def vals(target, kind, col=3):
    return [float(r[col]) for r in rows if r[1] == target and r[2] == kind]
lines = []
lines.append("# End-to-end: sluice vs direct to the backend, side by side\n")
lines.append(f"- Commit: {commit}")
lines.append(f"- Command: `benches/e2e/run.sh {size} {rounds}`")
lines.append(f"- Machine: shared VM, 2 vCPU {cpu}, Linux; client, sluice (2 workers, io_uring) and one s3s-fs 0.14.1 backend on the same 2 cores")
lines.append("- Same tool (`sluice-bench`) and same requests against both endpoints, alternating, each round: direct first, then sluice.")
lines.append("- Large objects: one PUT with `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (64 KiB signed chunks), then one GET.")
lines.append("- Small objects: 2000 x 4 KiB PUT (signed sha256) then GET, 8 connections.\n")
lines.append("| measure | direct | through sluice | ratio |")
lines.append("|---|---|---|---|")
for kind, unit in [("big-put", "MiB/s"), ("big-get", "MiB/s"), ("small-put", "req/s"), ("small-get", "req/s")]:
    d, s = statistics.median(vals("be", kind)), statistics.median(vals("sl", kind))
    label = f"{int(size) // (1024*1024)} MiB PUT" if kind == "big-put" else f"{int(size) // (1024*1024)} MiB GET" if kind == "big-get" else ("4 KiB PUT" if kind == "small-put" else "4 KiB GET")
    lines.append(f"| {label} ({unit}, median of {rounds}) | {d:.1f} | {s:.1f} | {s / d:.2f}x |")
for kind in ["small-put", "small-get"]:
    d50, s50 = statistics.median(vals("be", kind, 4)), statistics.median(vals("sl", kind, 4))
    d99, s99 = statistics.median(vals("be", kind, 5)), statistics.median(vals("sl", kind, 5))
    lines.append(f"| {kind} latency p50 / p99 (ms) | {d50:.2f} / {d99:.2f} | {s50:.2f} / {s99:.2f} | |")
lines.append(f"\nsluice peak RSS over the whole run (VmHWM): {int(hwm) / 1024:.1f} MiB\n")
lines.append("Raw rows (round, target, measure, value[, p50, p99]):\n")
lines.append("```")
lines.extend(" ".join(r) for r in rows)
lines.append("```")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
