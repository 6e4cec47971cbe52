# Sourced: starts `a3b serve` on a free port in the background; sets SERVER_PID and BASE_URL and
# stops the server when the calling script exits.
start_server() {  # start_server BINARY MODEL_DIR API_KEY [extra args...]
  local bin=$1 model=$2 key=$3
  shift 3
  SERVER_LOG=$(mktemp)
  "$bin" serve -m "$model" --host 127.0.0.1 --port 0 --api-key "$key" "$@" 2>"$SERVER_LOG" &
  SERVER_PID=$!
  trap 'kill $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true; rm -f "$SERVER_LOG"' EXIT
  for _ in $(seq 1 300); do
    BASE_URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$SERVER_LOG" | head -1 || true)
    [ -n "$BASE_URL" ] && return 0
    kill -0 $SERVER_PID 2>/dev/null || { cat "$SERVER_LOG" >&2; echo "server died" >&2; exit 1; }
    sleep 0.1
  done
  cat "$SERVER_LOG" >&2
  echo "server did not start" >&2
  exit 1
}
