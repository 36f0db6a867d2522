#!/usr/bin/env bash
# Durable write latency, side by side: PUTs of SIZE bytes into a 2-replica
# bucket over three s3s-fs backends, one sluice binary after the other,
# ROUNDS times alternately, each round a fresh data directory.
#
#   benches/scripts/durable_write_latency.sh BEFORE_BIN AFTER_BIN BENCH_BIN [ROUNDS]
#
# Prints one JSON line per (round, binary, size, concurrency) from sluice-bench.
set -euo pipefail
before=$1 after=$2 bench=$3 rounds=${4:-3}
# "size concurrency count" triples.
specs=("4096 1 300" "4096 16 2000" "1048576 1 100" "1048576 8 200" "16777216 1 12" "16777216 4 16")
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
ports=(19101 19102 19103)
for i in 0 1 2; do
  mkdir -p "$work/be$i"
  s3s-fs --host 127.0.0.1 --port "${ports[$i]}" --access-key "BE$i" --secret-key "secret-$i" "$work/be$i" >/dev/null 2>&1 &
done
sleep 1
config() {
  cat <<TOML
[server]
listen = "127.0.0.1:19000"
workers = 2
data_dir = "$1"
[log]
level = "error"
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
[replication]
workers_per_core = 1
TOML
}
for round in $(seq 1 "$rounds"); do
  for which in before after; do
    bin=$before; [ "$which" = after ] && bin=$after
    dir="$work/sluice-$which-$round"
    mkdir -p "$dir"
    config "$dir/data" > "$dir/sluice.toml"
    SLUICE_MASTER_KEY=5a1c3e00112233445566778899aabbccddeeff00112233445566778899aabbcc \
      "$bin" serve --config "$dir/sluice.toml" > "$dir/out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q listening "$dir/out" && break; sleep 0.1; done
    sleep 1
    for spec in "${specs[@]}"; do
      set -- $spec
      out=$("$bench" put --endpoint http://127.0.0.1:19000 --access-key AKBENCH --secret-key bench-secret \
        --bucket bench --prefix "r$round/$which/$1-$2/" --size "$1" --count "$3" --concurrency "$2" --mode sha256)
      echo "{\"round\":$round,\"binary\":\"$which\",\"size\":$1,\"concurrency\":$2,\"result\":$out}"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
