#!/usr/bin/env bash
# Every call without interaction on a locked KeePassXC database: "COMMAND=STATUS MILLISECONDS" each.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app kp-locked; echo "set=$?"
lock_default
locked=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets/aliases/default \
  --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked)
echo "locked=$locked"
echo "get=$(timed "$S" get token --app kp-locked --no-interaction --timeout 60)"
echo "exists=$(timed "$S" exists token --app kp-locked --no-interaction --timeout 60)"
echo "list=$(timed "$S" list --app kp-locked --no-interaction --timeout 60)"
echo "delete=$(timed "$S" delete token --app kp-locked --no-interaction --timeout 60)"
echo "set=$(printf new | timed "$S" set token --app kp-locked --no-interaction --timeout 60)"
