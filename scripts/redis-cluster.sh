#!/usr/bin/env bash
# A throwaway Redis Cluster of three masters on loopback, for tests and CI.
#
#   scripts/redis-cluster.sh start [base_port]   # masters on base_port..base_port+2 (default 7000)
#   scripts/redis-cluster.sh stop  [base_port]
#
# No persistence (no RDB, no AOF), no replicas, bound to 127.0.0.1 only. The
# nodes keep their files in one temporary directory, which `stop` removes.
# Both commands are idempotent: `start` on a running, healthy cluster does
# nothing; `stop` on a stopped one does nothing.
#
# Then: REDIS_MODE=cluster REDIS_URL=redis://127.0.0.1:7000 npm run test:cluster
set -euo pipefail

cmd="${1:-}"
base="${2:-7000}"
case "$base" in '' | *[!0-9]*) echo "base_port must be a number, not '$base'" >&2; exit 2 ;; esac
ports=("$base" "$((base + 1))" "$((base + 2))")
host=127.0.0.1
tmp="${TMPDIR:-/tmp}"
dir="${tmp%/}/datagen-redis-cluster-$base"

log() { printf 'redis-cluster: %s\n' "$*"; }
answers() { [ "$(redis-cli -h "$host" -p "$1" ping 2>/dev/null || true)" = "PONG" ]; }
cluster_ok() { redis-cli -h "$host" -p "$1" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'; }
ours() { [ "$(redis-cli -h "$host" -p "$1" config get dir 2>/dev/null | sed -n 2p)" = "$dir" ]; }
# All three nodes up, ours, agreeing on a whole cluster of three.
healthy() {
  for port in "${ports[@]}"; do
    ours "$port" && cluster_ok "$port" && [ "$(known_nodes "$port")" = "3" ] || return 1
  done
}
known_nodes() { redis-cli -h "$host" -p "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_known_nodes://p'; }

stop() {
  for port in "${ports[@]}"; do
    if answers "$port"; then
      # only a node of ours: a cluster-enabled server whose working directory is ours
      if ours "$port"; then
        redis-cli -h "$host" -p "$port" shutdown nosave >/dev/null 2>&1 || true
      else
        log "port $port answers but is not a node of $dir; left alone" >&2
      fi
    fi
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 50); do answers "$port" || break; sleep 0.1; done
  done
  rm -rf "$dir"
  log "stopped (${ports[*]})"
}

start() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "redis-server and redis-cli are required" >&2
    exit 1
  fi
  if healthy; then
    log "already running: cluster_state:ok on ${ports[*]}"
    return 0
  fi
  # A half-started cluster from an earlier run: start over.
  for port in "${ports[@]}"; do
    if answers "$port" && ! ours "$port"; then
      echo "port $port is taken by another Redis; choose another base_port" >&2
      exit 1
    fi
  done
  stop >/dev/null
  mkdir -p "$dir"
  for port in "${ports[@]}"; do
    redis-server --cluster-enabled yes --cluster-config-file "nodes-$port.conf" --cluster-node-timeout 5000 \
      --port "$port" --bind "$host" --protected-mode yes --save '' --appendonly no \
      --dir "$dir" --logfile "$dir/redis-$port.log" --daemonize yes
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 50); do answers "$port" && break; sleep 0.1; done
    answers "$port" || { echo "node $port did not start:" >&2; tail -n 20 "$dir/redis-$port.log" >&2 || true; exit 1; }
  done
  redis-cli --cluster create "$host:${ports[0]}" "$host:${ports[1]}" "$host:${ports[2]}" \
    --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 ||
    { echo "redis-cli --cluster create failed:" >&2; cat "$dir/create.log" >&2; exit 1; }
  # Every node must agree before clients connect (a node that has not yet
  # learned the others answers CLUSTERDOWN or redirects to nowhere).
  for _ in $(seq 1 100); do
    healthy && break
    sleep 0.1
  done
  healthy || { echo "the cluster did not reach cluster_state:ok" >&2; exit 1; }
  log "running: 3 masters on $host:${ports[0]}-${ports[2]}, files in $dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [base_port]" >&2; exit 2 ;;
esac
