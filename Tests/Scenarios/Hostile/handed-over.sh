#!/usr/bin/env bash
# A second daemon waits for the Secret Service's name, which the double gives up while it answers
# the write's search: the write's status on standard error, then the value read back, in hex.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
dir=$(mktemp -d)
/usr/bin/python3 "$SECURESTORE_FAKE_DOUBLE" serve --foreign-session > "$dir/second.out" 2> "$dir/second.err" &
second=$!
trap 'kill "$second" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q queued "$dir/second.out" && break; sleep 0.1; done
grep -q queued "$dir/second.out" || { echo "the second daemon did not queue for the name" >&2; exit 97; }
printf 'the value' | "$S" set k --app handover-test; echo "set=$?" >&2
"$S" get k --app handover-test | od -An -tx1 | tr -d ' \n'; echo
