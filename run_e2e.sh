#!/usr/bin/env bash
# End-to-end run against a real server process: start bin/bleepstore on a free port with a
# temporary data directory, run a suite against it with BLEEPSTORE_ENDPOINT set, stop the
# server, exit with the suite's status.
#
#   ./run_e2e.sh                      the project's own e2e suites (test/e2e, external-safe files)
#   ./run_e2e.sh path/to/suite        an external suite: a directory or file of *.test.ts/*.test.js/
#                                     *.test.mjs files run with node --test, a *.py file or
#                                     directory run with pytest, or any executable run as is
#
# The suite gets BLEEPSTORE_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
# AWS_DEFAULT_REGION in its environment. BLEEPSTORE_E2E_ARGS adds flags to the server.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PWD/node_modules/.bin:$PATH"
unset NODE_TEST_CONTEXT  # started from inside a node --test run, the suite must still run on its own

DATA="$(mktemp -d "${TMPDIR:-/tmp}/bleepstore-e2e-XXXXXX")"
LOG="$DATA/server.log"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT INT TERM

# The redirection of a background command happens in the child: create the file first so
# the loop below never reads it before it exists.
: >"$LOG"
# shellcheck disable=SC2086
node bin/bleepstore --port 0 --host 127.0.0.1 --data-dir "$DATA/data" --log-level info --log-format json ${BLEEPSTORE_E2E_ARGS:-} >"$LOG" 2>&1 &
SERVER_PID=$!

URL=""
for _ in $(seq 1 200); do
  URL="$(sed -n 's/.*"msg":"ready".*"url":"\([^"]*\)".*/\1/p' "$LOG" | head -n1)"
  [ -n "$URL" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run_e2e.sh: the server exited before it was ready:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.05
done
if [ -z "$URL" ]; then
  echo "run_e2e.sh: the server did not report ready within 10 s" >&2
  exit 1
fi
echo "run_e2e.sh: server $URL (pid $SERVER_PID, data $DATA/data)" >&2

export BLEEPSTORE_ENDPOINT="$URL"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-bleepstore}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-bleepstore-secret}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

# The project's own suites that need nothing but S3: each uses bucket names of its own, so
# they can share one server.
DEFAULT_SUITE=(test/e2e/objects.test.ts test/e2e/list-copy-delete.test.ts test/e2e/multipart.test.ts test/e2e/raw-auth.test.ts test/e2e/inline.test.ts)

status=0
if [ $# -eq 0 ]; then
  node --test --test-concurrency=1 "${DEFAULT_SUITE[@]}" || status=$?
else
  target="$1"
  shift
  if [ -d "$target" ] && ls "$target"/*.py >/dev/null 2>&1 || [[ "$target" == *.py ]]; then
    python3 -m pytest "$target" "$@" || status=$?
  elif [ -d "$target" ]; then
    mapfile -t files < <(find "$target" -type f \( -name '*.test.ts' -o -name '*.test.js' -o -name '*.test.mjs' \) | sort)
    if [ ${#files[@]} -eq 0 ]; then echo "run_e2e.sh: no *.test.{ts,js,mjs} files under $target" >&2; exit 2; fi
    node --test --test-concurrency=1 "${files[@]}" "$@" || status=$?
  elif [[ "$target" == *.test.ts || "$target" == *.test.js || "$target" == *.test.mjs ]]; then
    node --test "$target" "$@" || status=$?
  elif [ -x "$target" ]; then
    "$target" "$@" || status=$?
  else
    echo "run_e2e.sh: do not know how to run $target" >&2
    exit 2
  fi
fi
echo "run_e2e.sh: suite exited with status $status" >&2
exit "$status"
