#!/usr/bin/env bash
# An app's items on the host moved into its sandbox, the first move stopped half way; a move with
# nothing left to move, its report written into a full device.
# shellcheck source=Tests/Scenarios/lib.sh
. "$(dirname "$0")/../lib.sh"
app=org.example.Sandboxed
printf one | "$S" set k1 --app mover
printf '\x00\xff' | "$S" set k2 --app mover --accessible AFTER_FIRST_UNLOCK
printf three | "$S" set k3 --app mover --service other
printf four | "$S" set k4 --app mover --access-group grp
printf stays | "$S" set k1 --app bystander
in_sandbox $app "$S" migrate --app mover --access-group grp --stop-after 2 >/dev/null 2>&1; echo "interrupted=$?"
echo "host-after-interruption=$(secret-tool search --all xdg:schema dev.securestore.Item 2>/dev/null | grep -c '^label')"
echo "second=$(in_sandbox $app "$S" migrate --app mover --access-group grp)"
in_sandbox $app "$S" migrate --app mover --access-group grp >/dev/full 2>"$HOME/err"; echo "into-full=$? $(grep -o 'ERR_[A-Z_]*' "$HOME/err")"
echo "third=$(in_sandbox $app "$S" migrate --app mover --access-group grp)"
echo "host-mover=$(secret-tool search --all application mover 2>/dev/null | grep -c '^label')"
echo "host-group=$(secret-tool search --all access-group grp 2>/dev/null | grep -c '^label')"
echo "host-bystander=$("$S" get k1 --app bystander)"
echo "k1=$(in_sandbox $app "$S" get k1 --app mover)"
echo "k2=$(in_sandbox $app "$S" get k2 --app mover --raw | od -An -tx1 | tr -d ' ')"
echo "k3=$(in_sandbox $app "$S" get k3 --app mover --service other)"
echo "k4=$(in_sandbox $app "$S" get k4 --app mover --access-group grp)"
