#!/usr/bin/env bash
# The daemon dies for good: `never-back.sh WARM`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf v | "$S" set token --app gone-test
probe_meeting kill_provider "$1" down --app gone-test --key token --count 5 --timeout 60
