#!/usr/bin/env bash
# Calls in a sandbox whose portal cannot get the key (the desktop's keyring is gone).
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=org.example.Sandboxed
kill "$SECURESTORE_PROVIDER_PID"
while kill -0 "$SECURESTORE_PROVIDER_PID" 2>/dev/null; do sleep 0.05; done
echo "start=$(timed in_sandbox $app "$S" --help)"
echo "set=$(printf v | timed in_sandbox $app "$S" set token --app refused --timeout 60)"
echo "error=$(grep -o 'ERR_[A-Z_]*' "$HOME/err" | head -1)"
echo "get=$(timed in_sandbox $app "$S" get token --app refused --timeout 60)"
echo "file=$(find "$HOME/.var/app/$app/data/keyrings" -mindepth 1 2>/dev/null | wc -l)"
