#!/usr/bin/env bash
# Start or stop the real servers the tests use, on loopback only:
#   Redis on 6390 with a Sentinel on 26390 (master name "cachecore"), a Redis Cluster of three
#   masters on 7100-7102, Memcached on 11311 and 11312.
# The ports match the defaults of tests/conftest.py, so `bash .ci/servers.sh start` is all a
# developer needs before running the tests against real servers. A server that already answers
# on its port is reused, and `stop` stops only what `start` started here.
set -euo pipefail
cd "$(dirname "$0")/.."
run=.ci/.run
mkdir -p "$run"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  for _ in $(seq 100); do answers "$1" && return 0; sleep 0.1; done
  echo "nothing answers on port $1" >&2
  return 1
}

redis() {  # redis PORT [extra redis-server arguments...]
  local port=$1; shift
  answers "$port" && return 0
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$PWD/$run/redis-$port.pid" --logfile "$PWD/$run/redis-$port.log" --dir "$PWD/$run" "$@"
}

start() {
  redis 6390
  wait_for 6390
  if ! answers 26390; then
    printf 'port 26390\nbind 127.0.0.1\nsentinel monitor cachecore 127.0.0.1 6390 1\n' >"$run/sentinel.conf"
    redis-server "$PWD/$run/sentinel.conf" --sentinel --daemonize yes \
      --pidfile "$PWD/$run/sentinel-26390.pid" --logfile "$PWD/$run/sentinel-26390.log"
  fi
  for port in 7100 7101 7102; do
    answers "$port" || rm -f "$run/nodes-$port.conf"
    redis "$port" --cluster-enabled yes --cluster-config-file "nodes-$port.conf" --cluster-node-timeout 2000
  done
  for port in 11311 11312; do
    answers "$port" || memcached -d -l 127.0.0.1 -p "$port" -U 0 -m 64 \
      -P "$PWD/$run/memcached-$port.pid" -u "$(id -un)"
  done
  for port in 26390 7100 7101 7102 11311 11312; do wait_for "$port"; done
  if ! redis-cli -p 7100 cluster info | grep -q 'cluster_state:ok'; then
    redis-cli --cluster create 127.0.0.1:7100 127.0.0.1:7101 127.0.0.1:7102 \
      --cluster-replicas 0 --cluster-yes >"$run/cluster-create.log"
    for _ in $(seq 100); do
      redis-cli -p 7100 cluster info | grep -q 'cluster_state:ok' && break; sleep 0.1
    done
  fi
  redis-cli -p 7100 cluster info | grep -q 'cluster_state:ok' || { echo "redis cluster did not form" >&2; exit 1; }
  echo "servers up: redis 6390, sentinel 26390, redis cluster 7100-7102, memcached 11311 11312"
}

stop() {
  for f in "$run"/*.pid; do
    [ -e "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
