#!/usr/bin/env bash
# The daemon is stopped (SIGSTOP) under the probe: `stopped.sh WARM PROBE-ARGUMENTS...`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
warm=$1; shift
stop_daemon() { kill -STOP "$SECURESTORE_PROVIDER_PID"; }
probe_meeting stop_daemon "$warm" down "$@"
kill -CONT "$SECURESTORE_PROVIDER_PID"
