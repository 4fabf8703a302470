#!/usr/bin/env bash
# GNOME Keyring started without a password in a fresh account: no login keyring.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
kill "$SECURESTORE_PROVIDER_PID"; wait_name_released
rm -rf "$XDG_DATA_HOME/keyrings"
gnome-keyring-daemon --foreground --components=secrets </dev/null >/dev/null 2>&1 &
daemon=$!
gdbus wait --session --timeout 10 org.freedesktop.secrets
echo "alias=$(gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
  --method org.freedesktop.Secret.Service.ReadAlias default)"
"$S" get k --app no-login-test --no-interaction; echo "get=$?"
"$S" exists k --app no-login-test --no-interaction; echo "exists=$?"
echo "list=[$("$S" list --app no-login-test --no-interaction)] $?"
printf v | "$S" set k --app no-login-test --no-interaction; echo "set-without-interaction=$?"
printf v | "$S" set k --app no-login-test --timeout 10; echo "set-without-display=$?"
"$S" delete k --app no-login-test --no-interaction; echo "delete=$?"
kill $daemon
