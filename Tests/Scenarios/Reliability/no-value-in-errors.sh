#!/usr/bin/env bash
# Every failing path of the command, given SECRET as the value: `no-value-in-errors.sh SECRET`.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
secret=$1
printf %s "$secret" | "$S" set 'bad key' --app hygiene-test
printf %s "$secret" | "$S" set k --app hygiene-test --accessible ALWAYS_THIS_DEVICE_ONLY --synchronizable yes
head -c 1100000 /dev/zero | tr '\0' x | sed "s/^/$secret/" | "$S" set k --app hygiene-test
printf %s "$secret" | "$S" set k --app hygiene-test --json
lock_login
printf %s "$secret" | "$S" set k --app hygiene-test --no-interaction
"$S" get k --app hygiene-test --no-interaction
printf %s "$secret" | DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent "$S" set k --app hygiene-test
kill -STOP "$SECURESTORE_PROVIDER_PID"
printf %s "$secret" | "$S" set k --app hygiene-test --timeout 1
kill -CONT "$SECURESTORE_PROVIDER_PID"
