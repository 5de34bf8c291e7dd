#!/usr/bin/env bash
# Redis, N chat server processes and nginx in front, on this machine, for trying several processes.
#   deploy/cluster.sh start N [SERVER FLAGS...]   e.g. start 2 --backend openai --base-url http://HOST:8000/v1
#   deploy/cluster.sh stop                        stops what `start` started, nothing else
#   deploy/cluster.sh conf LISTEN PORT...         prints deploy/nginx.conf for these ports
# Settings: CLUSTER_DIR (/tmp/lan-chat-cluster: logs, pids, nginx's files), PORT (8080, nginx),
# BASE_PORT (5001: the processes take BASE_PORT..BASE_PORT+N-1), REDIS_PORT (6390).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${CLUSTER_DIR:-/tmp/lan-chat-cluster}"
PORT="${PORT:-8080}" BASE_PORT="${BASE_PORT:-5001}" REDIS_PORT="${REDIS_PORT:-6390}"

conf() {  # deploy/nginx.conf with its listen port and upstream servers replaced
  local listen="$1"; shift
  local servers=""
  for p in "$@"; do servers+="        server 127.0.0.1:$p;\n"; done
  sed -e "s/^\( *listen \)[0-9.:]*;/\1$listen;/" \
      -e '/^ *server 127\.0\.0\.1:[0-9]*;$/d' \
      -e "s/^\( *hash \$remote_addr consistent;\)$/\1\n${servers%\\n}/" "$ROOT/deploy/nginx.conf"
}

wait_http() {  # until URL answers, or fail after 120 s
  for _ in $(seq 1200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "no answer from $1; logs in $DIR" >&2; return 1
}

start() {
  local n="$1"; shift
  [ -e "$DIR/redis.pid" ] && { echo "already started ($DIR); run stop first" >&2; exit 1; }
  mkdir -p "$DIR"
  # Append-only file in $DIR: conversations survive a Redis restart (fsync once a second).
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR" --save '' --appendonly yes \
    --appendfsync everysec >"$DIR/redis.log" 2>&1 &
  echo $! >"$DIR/redis.pid"
  local ports=()
  for i in $(seq 0 $((n - 1))); do
    local p=$((BASE_PORT + i))
    ports+=("$p")
    python "$ROOT/run.py" --host 127.0.0.1 --port "$p" --no-qr --behind-proxy \
      --redis "redis://127.0.0.1:$REDIS_PORT/0" "$@" >"$DIR/server-$p.log" 2>&1 &
    echo $! >"$DIR/server-$p.pid"
  done
  for p in "${ports[@]}"; do wait_http "http://127.0.0.1:$p/healthz"; done
  conf "$PORT" "${ports[@]}" >"$DIR/nginx.conf"
  nginx -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" -g 'daemon off;' &
  echo $! >"$DIR/nginx.pid.started"
  wait_http "http://127.0.0.1:$PORT/healthz"
  echo "$n processes behind nginx: http://<this machine's address>:$PORT/  (logs in $DIR)"
  # With no token flags the processes share the admin token their data folder keeps: its link, through nginx.
  local admin
  admin="$(grep -o '#admin=[A-Za-z0-9_-]*' "$DIR/server-${ports[0]}.log" | head -n 1 || true)"
  if [ -n "$admin" ]; then echo "To be the admin in a browser on this machine, open http://localhost:$PORT/$admin"; fi
}

stop() {
  for f in "$DIR"/nginx.pid.started "$DIR"/server-*.pid "$DIR"/redis.pid; do
    [ -e "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

case "${1:-}" in
  start) shift; start "${1:?N}" "${@:2}" ;;
  stop) stop ;;
  conf) shift; conf "$@" ;;
  *) sed -n '2,7p' "$0"; exit 2 ;;
esac
