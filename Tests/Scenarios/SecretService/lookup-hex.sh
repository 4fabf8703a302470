#!/usr/bin/env bash
# Prints in hex what secret-tool looks up: `lookup-hex.sh ATTRIBUTE VALUE...`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
secret-tool lookup "$@" | od -An -tx1 | tr -d ' \n'
