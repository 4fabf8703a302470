#!/usr/bin/env bash
# Runs a command on a private session bus that activates nothing, where the hostile test double
# (hostile-peer.py) owns org.freedesktop.secrets (and with --portal-version the Secret portal);
# exits with the command's status. Fails with 97 if the double cannot start: tests never skip
# silently.
#
#   Tests/Fakes/with-fake-service.sh serve --plain-only -- COMMAND...
#   Tests/Fakes/with-fake-service.sh serve --portal-version 2 -- COMMAND...
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
double=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do double+=("$1"); shift; done
[ $# -gt 1 ] || { echo "usage: $0 serve [OPTIONS] -- COMMAND..." >&2; exit 2; }
shift

directory=$(mktemp -d)
trap 'rm -rf "$directory"' EXIT
cat > "$directory/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$directory</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>
  </policy>
</busconfig>
CONF

# A home of its own, where scenarios keep their files: tests run side by side.
mkdir "$directory/home"
export HOME="$directory/home"
export SECURESTORE_FAKE_DOUBLE="$here/hostile-peer.py" SECURESTORE_FAKE_DIRECTORY="$directory"
exec dbus-run-session --config-file "$directory/session.conf" -- "$here/run-beside-double.sh" "${double[@]}" -- "$@"
