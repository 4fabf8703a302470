#!/usr/bin/env bash
# Inside with-fake-service.sh's bus: starts the double, waits for it to own its name, runs the
# command, ends the double, and exits with the command's status.
set -euo pipefail

double=()
while [ "$1" != -- ]; do double+=("$1"); shift; done
shift

ready="$SECURESTORE_FAKE_DIRECTORY/double.out"
/usr/bin/python3 "$SECURESTORE_FAKE_DOUBLE" "${double[@]}" > "$ready" 2>"$SECURESTORE_FAKE_DIRECTORY/double.err" &
double_pid=$!
trap 'kill "$double_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q ready "$ready" 2>/dev/null && break
  kill -0 "$double_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q ready "$ready" 2>/dev/null; then
  echo "with-fake-service: the test double did not start:" >&2
  cat "$SECURESTORE_FAKE_DIRECTORY/double.err" >&2
  exit 97
fi
status=0
"$@" || status=$?
exit "$status"
