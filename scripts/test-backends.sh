#!/usr/bin/env bash
# Runs the S3 suites (test/e2e) once per storage backend, unchanged: the backend is a
# parameter of test/helpers/server.ts (BLEEPSTORE_TEST_BACKEND).
set -euo pipefail
cd "$(dirname "$0")/.."
backends=${BACKENDS:-"memory sqlite aws azure"}
for b in $backends; do
  echo "== storage backend: $b"
  BLEEPSTORE_TEST_BACKEND=$b node --test --test-concurrency=2 'test/e2e/*.test.ts'
done
