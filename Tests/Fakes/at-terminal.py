#!/usr/bin/python3
"""Runs a command with its standard input on a new pseudo-terminal, as a person at a prompt.

  at-terminal.py ACTION -- COMMAND...

Waits for the command's prompt ("Value for" on standard error), then does ACTION:
  type:TEXT    types TEXT and Enter
  eof          presses Ctrl-D on an empty line
  signal:NAME  sends the signal (INT, TERM, HUP) to the command
Prints one line, "status=N echo=on|off", once the command has ended: its exit status
(128 + N for a signal it died of) and whether the terminal echoes again.
"""
import os
import select
import signal
import subprocess
import sys
import termios
import time


def main():
    action, separator, *command = sys.argv[1:]
    assert separator == "--" and command, __doc__
    leader, follower = os.openpty()
    child = subprocess.Popen(command, stdin=follower, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = b""
    deadline = time.monotonic() + 30
    while b"Value for" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([child.stderr], [], [], 0.1)
        if ready:
            chunk = os.read(child.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    # The prompt is written just before echo goes off: wait until it is off.
    while termios.tcgetattr(follower)[3] & termios.ECHO and time.monotonic() < deadline:
        time.sleep(0.01)
    if action.startswith("type:"):
        os.write(leader, action[5:].encode() + b"\n")
    elif action == "eof":
        os.write(leader, b"\x04")
    elif action.startswith("signal:"):
        child.send_signal(getattr(signal, "SIG" + action[7:]))
    status = child.wait(timeout=60)
    status = 128 - status if status < 0 else status
    echo = "on" if termios.tcgetattr(follower)[3] & termios.ECHO else "off"
    print(f"status={status} echo={echo}", flush=True)


if __name__ == "__main__":
    main()
