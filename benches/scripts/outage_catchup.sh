#!/usr/bin/env bash
# Replication catch-up after an outage: three s3s-fs backends, a 2-replica
# bucket; one backend is stopped, PUTs continue until PENDING replication
# tasks wait for it, the outage lasts OUTAGE_SECS in all, then the backend
# comes back and the time until no task is pending is measured.
#
#   benches/scripts/outage_catchup.sh SLUICE_BIN BENCH_BIN [PENDING] [OUTAGE_SECS]
#
# Prints progress lines and a final JSON line.
set -euo pipefail
sluice=$1 bench=$2 want=${3:-10000} outage=${4:-300}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
ports=(19201 19202 19203)
start_backend() {
  s3s-fs --host 127.0.0.1 --port "${ports[$1]}" --access-key "BE$1" --secret-key "secret-$1" "$work/be$1" >/dev/null 2>&1 &
  echo $! > "$work/be$1.pid"
}
for i in 0 1 2; do mkdir -p "$work/be$i"; start_backend $i; done
sleep 1
cat > "$work/sluice.toml" <<TOML
[server]
listen = "127.0.0.1:19300"
workers = 2
data_dir = "$work/data"
[log]
level = "error"
[health]
interval_ms = 1000
failures_to_mark_down = 2
[[backend]]
id = "b0"
endpoint = "http://127.0.0.1:${ports[0]}"
region = "r"
access_key = "BE0"
secret_key = "secret-0"
[[backend]]
id = "b1"
endpoint = "http://127.0.0.1:${ports[1]}"
region = "r"
access_key = "BE1"
secret_key = "secret-1"
[[backend]]
id = "b2"
endpoint = "http://127.0.0.1:${ports[2]}"
region = "r"
access_key = "BE2"
secret_key = "secret-2"
[[tenant]]
name = "t"
keys = [{ access_key = "AKBENCH", secret_key = "bench-secret" }]
[[bucket]]
tenant = "t"
name = "bench"
replicas = 2
TOML
SLUICE_MASTER_KEY=5a1c3e00112233445566778899aabbccddeeff00112233445566778899aabbcc \
  "$sluice" serve --config "$work/sluice.toml" > "$work/out" 2>&1 &
for _ in $(seq 100); do grep -q listening "$work/out" && break; sleep 0.1; done
metric() { curl -s http://127.0.0.1:19300/metrics | awk -v m="$1" '$1 == m { print $2 }'; }
kill "$(cat "$work/be2.pid")"
down_at=$(date +%s.%N)
for _ in $(seq 100); do [ "$(metric 'sluice_backend_up{backend="b2"}')" = 0 ] && break; sleep 0.2; done
batch=0
while [ "$(metric sluice_replication_pending_tasks | cut -d. -f1)" -lt "$want" ]; do
  "$bench" put --endpoint http://127.0.0.1:19300 --access-key AKBENCH --secret-key bench-secret \
    --bucket bench --prefix "o$batch/" --size 4096 --count 2000 --concurrency 16 --mode sha256 > /dev/null
  batch=$((batch + 1))
  echo "pending: $(metric sluice_replication_pending_tasks)"
done
pending=$(metric sluice_replication_pending_tasks)
dead=$(metric sluice_replication_dead_tasks)
left=$(echo "$outage - ($(date +%s.%N) - $down_at)" | bc)
echo "pending $pending after $batch batches; waiting ${left}s for the outage to reach ${outage}s"
[ "${left%.*}" -gt 0 ] 2>/dev/null && sleep "$left"
dead_during=$(metric sluice_replication_dead_tasks)
start_backend 2
up_at=$(date +%s.%N)
until [ "$(metric sluice_replication_pending_tasks)" = 0 ]; do sleep 0.2; done
done_at=$(date +%s.%N)
waiting=$(curl -s http://127.0.0.1:19300/metrics | awk '$1 == "sluice_replication_tasks_total{outcome=\"waiting\"}" { print $2 }')
echo "{\"parks_waiting\":$waiting,\"pending_at_return\":$pending,\"outage_secs\":$(echo "$up_at - $down_at" | bc),\"dead_before_return\":$dead_during,\"catch_up_secs\":$(echo "$done_at - $up_at" | bc),\"dead_after\":$(metric sluice_replication_dead_tasks),\"objects_written\":$((batch * 2000))}"
