#!/usr/bin/env bash
# The QuickStart example in a sandbox; then the host's items of it.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
in_sandbox org.example.Sandboxed "$SECURESTORE_BIN/QuickStart"; echo "exit=$?"
echo "host-items=$(secret-tool search --all application dev.securestore.QuickStart 2>/dev/null | grep -c '^label')"
