#!/usr/bin/env bash
# Every call without interaction on a locked KeePassXC database: "COMMAND=STATUS MILLISECONDS" each.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
printf 'kept' | "$S" set token --app kp-locked; echo "set=$?"
prompt=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.Lock "['/org/freedesktop/secrets/aliases/default']" |
  grep -o "/org/freedesktop/secrets/prompt/[^']*")
gdbus call --session --dest org.freedesktop.secrets --object-path "$prompt" --method org.freedesktop.Secret.Prompt.Prompt "" >/dev/null
for _ in $(seq 50); do
  locked=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets/aliases/default \
    --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked)
  [ "$locked" = "(<true>,)" ] && break; sleep 0.1
done
echo "locked=$locked"
echo "get=$(timed "$S" get token --app kp-locked --no-interaction --timeout 60)"
echo "exists=$(timed "$S" exists token --app kp-locked --no-interaction --timeout 60)"
echo "list=$(timed "$S" list --app kp-locked --no-interaction --timeout 60)"
echo "delete=$(timed "$S" delete token --app kp-locked --no-interaction --timeout 60)"
echo "set=$(printf new | timed "$S" set token --app kp-locked --no-interaction --timeout 60)"
