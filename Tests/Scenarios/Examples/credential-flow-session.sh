#!/usr/bin/env bash
# A CredentialFlow session while another process changes its password and secret-tool deletes it.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
start_credential_flow_server
flow=$SECURESTORE_BIN/CredentialFlow
waitFor() { for _ in $(seq 600); do grep -q "$1" session.out && return; sleep 0.1; done; echo "never: $1"; }
echo first | "$flow" login --server "$url" --user alice >/dev/null
"$flow" session --server "$url" --user alice > session.out 2>&1 &
session=$!
waitFor watching
printf second > password
printf second | "$S" set alice --app dev.securestore.CredentialFlow --service "$url" --accessible AFTER_FIRST_UNLOCK
waitFor "signed in again"
secret-tool clear application dev.securestore.CredentialFlow service "$url" key alice
for _ in $(seq 600); do kill -0 $session 2>/dev/null || break; sleep 0.1; done
kill -0 $session 2>/dev/null && { echo "session still running"; kill $session; }
wait $session; echo "session exit=$?"
kill "$server"
cat session.out
