#!/usr/bin/env bash
# The provider is replaced while the probe's connection is idle.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'before the restart' | "$S" set token --app idle-restart-test
probe_meeting restart_provider true idle-restart --app idle-restart-test --timeout 5
echo "probe-exit=$?"
kill "$provider_now"
