#!/usr/bin/env bash
# Start or stop a scaled-out Arbiter Studio on this host, on PostgreSQL:
# INSTANCES Streamlit processes (ports BASE_PORT…), WORKERS `python -m core.worker`
# processes, and nginx on LB_PORT with sticky sessions when nginx is installed.
#   deploy/scale.sh start | stop | status
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_DIR=${RUN_DIR:-$PWD/data/scale}
INSTANCES=${INSTANCES:-2}
WORKERS=${WORKERS:-2}
BASE_PORT=${BASE_PORT:-8511}
LB_PORT=${LB_PORT:-8080}
PY=${PY:-.venv/bin/python}

require_postgres() {
  case "${DATABASE_URL:-}" in
    postgresql*|postgres*) ;;
    *) echo "error: set DATABASE_URL to a PostgreSQL database for a scaled-out deployment" >&2; exit 1 ;;
  esac
}

start() {
  require_postgres
  mkdir -p "$RUN_DIR"
  "$PY" -m core init-db
  export ARBITER_EMBEDDED_WORKER=0
  upstreams=""
  for i in $(seq 0 $((INSTANCES - 1))); do
    port=$((BASE_PORT + i))
    nohup "$PY" -m streamlit run server.py --server.address 127.0.0.1 --server.port "$port" \
      --server.headless true --browser.gatherUsageStats false >"$RUN_DIR/app-$port.log" 2>&1 &
    echo $! >"$RUN_DIR/app-$port.pid"
    upstreams+="        server 127.0.0.1:$port;"$'\n'
    echo "app instance on http://127.0.0.1:$port (pid $!)"
  done
  for i in $(seq 1 "$WORKERS"); do
    nohup "$PY" -m core.worker >"$RUN_DIR/worker-$i.log" 2>&1 &
    echo $! >"$RUN_DIR/worker-$i.pid"
    echo "worker $i (pid $!)"
  done
  if command -v nginx >/dev/null 2>&1; then
    mkdir -p "$RUN_DIR"/nginx-{body,proxy,fastcgi,uwsgi,scgi}
    sed -e "s#__RUN_DIR__#$RUN_DIR#g" -e "s#__LISTEN__#127.0.0.1:$LB_PORT#g" \
      deploy/nginx.conf.template | awk -v ups="$upstreams" '{ if ($0 == "__UPSTREAMS__") printf "%s", ups; else print }' \
      >"$RUN_DIR/nginx.conf"
    nginx -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR"
    echo "load balancer (sticky sessions) on http://127.0.0.1:$LB_PORT"
  else
    echo "nginx is not installed: open an instance directly, or install nginx (apt-get install nginx)"
  fi
}

stop() {
  if [ -f "$RUN_DIR/nginx.pid" ]; then nginx -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR" -s quit || true; fi
  for pidfile in "$RUN_DIR"/*.pid; do
    [ -e "$pidfile" ] || continue
    [ "$(basename "$pidfile")" = nginx.pid ] && continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  echo "stopped"
}

status() {
  for pidfile in "$RUN_DIR"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then state=running; else state=gone; fi
    echo "$(basename "$pidfile" .pid): $state (pid $pid)"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
