#!/usr/bin/env bash
# Stores the Latin-1 bytes of "café" with secret-tool: `store-latin1.sh ATTRIBUTE VALUE...`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'caf\xe9' | secret-tool store --label ext "$@"
