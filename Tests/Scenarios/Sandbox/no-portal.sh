#!/usr/bin/env bash
# Calls in a sandbox whose Secret portal is missing: "NAME=STATUS MILLISECONDS" each.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=org.example.Sandboxed
echo "start=$(timed in_sandbox $app "$S" --help)"
echo "set=$(printf v | timed in_sandbox $app "$S" set token --app lonely --timeout 60)"
echo "error=$(grep -o 'ERR_[A-Z_]*' "$HOME/err" | head -1)"
echo "get=$(timed in_sandbox $app "$S" get token --app lonely --timeout 60)"
echo "list=$(timed in_sandbox $app "$S" list --app lonely --timeout 60)"
echo "file=$(find "$HOME/.var/app/$app/data/keyrings" -mindepth 1 2>/dev/null | wc -l)"
echo "host-items=$(secret-tool search --all application lonely 2>/dev/null | grep -c '^label')"
# What doctor says in here, and its exit status.
doctor=$(in_sandbox $app "$S" doctor --json --app lonely --timeout 60 2>/dev/null); status=$?
echo "doctor=$doctor"
echo "doctor-exit=$status"
