# Shared set-up for the bench scripts (sourced, not run): a scratch directory and the processes
# to stop on exit, waiting for a port, and the nginx hop.

TMP=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid" 2>/dev/null)" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

wait_port() {
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done
  echo "port $1 not up" >&2
  exit 1
}

# Installs nginx when missing (Debian's nginx-light).
ensure_nginx() {
  if ! command -v nginx >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

# start_nginx MOCK_PORT NGINX_PORT: a plain proxy hop to the mock, pinned to core 0.
start_nginx() {
  sed -e "s#__DIR__#$TMP#g" -e "s#__MOCK_PORT__#$1#" -e "s#__NGINX_PORT__#$2#" \
    bench/nginx.conf.template > "$TMP/nginx.conf"
  mkdir -p "$TMP"/{body,proxy,fastcgi,uwsgi,scgi}
  taskset -c 0 "$NGINX" -c "$TMP/nginx.conf" -g 'daemon off;' 2>>"$TMP/nginx-stderr.log" & pids+=($!)
}
