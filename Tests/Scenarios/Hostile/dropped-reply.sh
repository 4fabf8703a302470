#!/usr/bin/env bash
# A write and a read against a service that never answers one method: `dropped-reply.sh TIMEOUT`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf v | "$S" set k --app dropped-test --timeout "$1"; echo "set=$?"
"$S" get k --app dropped-test --timeout "$1"; echo "get=$?"
