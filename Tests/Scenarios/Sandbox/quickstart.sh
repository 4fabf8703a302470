#!/usr/bin/env bash
# The QuickStart example in a sandbox; then the host's items of it.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
in_sandbox org.example.Sandboxed "$SECURESTORE_BIN/QuickStart"; echo "exit=$?"
echo "host-items=$(secret-tool search --all application dev.securestore.QuickStart 2>/dev/null | grep -c '^label')"
# What doctor says in here, and its exit status.
doctor=$(in_sandbox org.example.Sandboxed "$S" doctor --json --app dev.securestore.QuickStart --timeout 60 2>/dev/null); status=$?
echo "doctor=$doctor"
echo "doctor-exit=$status"
