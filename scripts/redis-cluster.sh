#!/usr/bin/env bash
# A throwaway Redis Cluster of three masters with one replica each, on
# loopback, for tests and CI.
#
#   scripts/redis-cluster.sh start [base_port]   # nodes on base_port..base_port+5 (default 7000)
#   scripts/redis-cluster.sh stop  [base_port]
#
# Six nodes joined by `redis-cli --cluster create --cluster-replicas 1`: which
# node is a master and which a replica is the cluster's choice (and changes
# after a failover); `redis-cli -p <base_port> cluster nodes` shows it.
# No persistence (no RDB, no AOF), bound to 127.0.0.1 only,
# cluster-node-timeout 2000 ms, so a killed master's replica takes over within
# a few seconds. Each node reads its settings from `redis-<port>.conf` in one
# temporary directory, where it also keeps its pid file, log and nodes file:
# a node killed by a test comes back as a replica with `redis-server <that
# file>` (its `config_file` in INFO server). `stop` removes the directory.
# Both commands are idempotent: `start` on a running, healthy cluster does
# nothing; `stop` on a stopped one does nothing. `stop` ends each node by the
# pid its pid file holds (SIGTERM, then SIGKILL), never by name.
#
# Then: REDIS_MODE=cluster REDIS_URL=redis://127.0.0.1:7000 npm run test:cluster
#       REDIS_CLUSTER_URL=redis://127.0.0.1:7000 npm run test:failover
set -euo pipefail

cmd="${1:-}"
base="${2:-7000}"
case "$base" in '' | *[!0-9]*) echo "base_port must be a number, not '$base'" >&2; exit 2 ;; esac
ports=()
for i in 0 1 2 3 4 5; do ports+=("$((base + i))"); done
host=127.0.0.1
node_timeout_ms=2000
tmp="${TMPDIR:-/tmp}"
dir="${tmp%/}/datagen-redis-cluster-$base"

log() { printf 'redis-cluster: %s\n' "$*"; }
cli() { local port="$1"; shift; redis-cli -h "$host" -p "$port" "$@" 2>/dev/null | tr -d '\r'; }
answers() { [ "$(cli "$1" ping || true)" = "PONG" ]; }
ours() { [ "$(cli "$1" config get dir | sed -n 2p)" = "$dir" ]; }

# Every node up, ours, agreeing on a cluster of six with three masters, each
# master with one replica in sync: the master sees it `online` (the initial
# sync done) with a lag of at most a second, and the replica sees its link up.
healthy() {
  local port info masters=0
  for port in "${ports[@]}"; do
    ours "$port" || return 1
    info="$(cli "$port" cluster info)"
    printf '%s\n' "$info" | grep -qx 'cluster_state:ok' || return 1
    printf '%s\n' "$info" | grep -qx 'cluster_known_nodes:6' || return 1
    info="$(cli "$port" info replication)"
    if printf '%s\n' "$info" | grep -qx 'role:master'; then
      masters=$((masters + 1))
      printf '%s\n' "$info" | grep -qx 'connected_slaves:1' || return 1
      printf '%s\n' "$info" | grep -Eq '^slave0:.*,state=online,.*,lag=[01]$' || return 1
    else
      printf '%s\n' "$info" | grep -qx 'master_link_status:up' || return 1
      printf '%s\n' "$info" | grep -qx 'master_sync_in_progress:0' || return 1
    fi
  done
  [ "$masters" = 3 ]
}

# The pid of a node of ours on `port`: from its pid file, if that process is
# still a redis-server; empty otherwise.
node_pid() {
  local pid
  pid="$(cat "$dir/redis-$1.pid" 2>/dev/null || true)"
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = "redis-server" ] && echo "$pid"
  return 0
}

stop() {
  local port pid pids=()
  for port in "${ports[@]}"; do
    pid="$(node_pid "$port")"
    if [ -n "$pid" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    elif answers "$port" && ! ours "$port"; then
      log "port $port answers but is not a node of $dir; left alone" >&2
    fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
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
    log "already running: cluster_state:ok on ${ports[*]}, every replica in sync"
    return 0
  fi
  # A half-started cluster from an earlier run, or one a test left short of a node: start over.
  local port
  for port in "${ports[@]}"; do
    if answers "$port" && ! ours "$port"; then
      echo "port $port is taken by another Redis; choose another base_port" >&2
      exit 1
    fi
  done
  stop >/dev/null
  mkdir -p "$dir"
  for port in "${ports[@]}"; do
    cat >"$dir/redis-$port.conf" <<EOF
port $port
bind $host
protected-mode yes
cluster-enabled yes
cluster-config-file nodes-$port.conf
cluster-node-timeout $node_timeout_ms
save ""
appendonly no
dir $dir
dbfilename dump-$port.rdb
logfile $dir/redis-$port.log
pidfile $dir/redis-$port.pid
daemonize yes
EOF
    redis-server "$dir/redis-$port.conf"
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 1 50); do answers "$port" && break; sleep 0.1; done
    answers "$port" || { echo "node $port did not start:" >&2; tail -n 20 "$dir/redis-$port.log" >&2 || true; exit 1; }
  done
  local nodes=()
  for port in "${ports[@]}"; do nodes+=("$host:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 ||
    { echo "redis-cli --cluster create failed:" >&2; cat "$dir/create.log" >&2; exit 1; }
  # Every node must agree, and every replica hold its master's data, before
  # clients connect (a node that has not yet learned the others answers
  # CLUSTERDOWN or redirects to nowhere; a test that fails a master over
  # needs a replica that is ready to take over).
  local deadline=$((SECONDS + 30))
  until healthy || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.2; done
  healthy || { echo "the cluster did not reach cluster_state:ok with every replica in sync:" >&2; cli "$base" cluster nodes >&2; exit 1; }
  log "running: 3 masters and 3 replicas on $host:${ports[0]}-${ports[5]}, files in $dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [base_port]" >&2; exit 2 ;;
esac
