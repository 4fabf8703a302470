#!/usr/bin/env bash
# Items written in a sandbox and on the host, each read, listed and looked for on both sides.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=org.example.Sandboxed
printf inside | in_sandbox $app "$S" set token --app shared; echo "sandbox-set=$?"
printf '\x00\xff\xfe' | in_sandbox $app "$S" set raw --app shared; echo "sandbox-set-bytes=$?"
echo "sandbox-bytes=$(in_sandbox $app "$S" get raw --app shared --raw | od -An -tx1 | tr -d ' ')"
echo "file=$(test -s "$HOME/.var/app/$app/data/keyrings/default.keyring" && echo app-private)"
"$S" get token --app shared; echo "host-get=$?"
echo "host-items=$(secret-tool search --all application shared 2>/dev/null | grep -c '^label')"
printf host | "$S" set token --app shared; echo "host-set=$?"
echo "sandbox-get=$(in_sandbox $app "$S" get token --app shared)"
echo "host-get-again=$("$S" get token --app shared)"
echo "sandbox-list=[$(in_sandbox $app "$S" list --app shared | tr '\n' ' ')]"
in_sandbox $app "$S" exists gone --app shared; echo "sandbox-exists-missing=$?"
