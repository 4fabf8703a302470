#!/usr/bin/python3
"""Runs a command with its standard input on a new pseudo-terminal, as a person at a prompt.

  at-terminal.py ACTION -- COMMAND...

Waits for the command's prompt ("Value for" on standard error) and for the terminal's echo to go
off (or for the command to end), then does ACTION:
  type:TEXT            types TEXT and Enter
  type-bytes:N         types N bytes ("x") and Enter
  eof                  presses Ctrl-D on an empty line
  signal:NAME          sends the signal (INT, TERM, HUP, QUIT) to the command
  suspend:BEFORE:AFTER types BEFORE, stops the command with SIGTSTP (Ctrl-Z), records whether
                       the terminal echoes while it is stopped, continues it (fg), waits for
                       the echo to go off again, then types AFTER and Enter
Prints one line once the command has ended: "status=N echo=on|off core=yes|no", its exit
status (128 + N for a signal it died of), whether the terminal echoes again, and whether it
dumped core (the command runs with an unlimited core size in a folder of its own, so that only
the command itself can forbid a dump); suspend adds "stopped-echo=on|off".

  at-terminal.py --output -- COMMAND...

Runs COMMAND with its standard output on a pseudo-terminal and copies what the terminal
received to standard output.
"""
import os
import resource
import select
import signal
import subprocess
import sys
import tempfile
import termios
import time


def echoes(follower):
    return bool(termios.tcgetattr(follower)[3] & termios.ECHO)


def has_ended(pid):
    """Whether the child has ended, leaving it to be reaped (and its status read) later."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def wait_until(condition, deadline):
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def allow_core():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def output_mode(command):
    leader, follower = os.openpty()
    child = subprocess.Popen(command, stdout=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the follower's last holder closed it
            break
        if not chunk:
            break
        received += chunk
    child.wait(timeout=60)
    sys.stdout.buffer.write(received)


def main():
    if sys.argv[1] == "--output":
        assert sys.argv[2] == "--", __doc__
        return output_mode(sys.argv[3:])
    action, separator, *command = sys.argv[1:]
    assert separator == "--" and command, __doc__
    leader, follower = os.openpty()
    folder = tempfile.mkdtemp()
    child = subprocess.Popen(command, stdin=follower, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             cwd=folder, preexec_fn=allow_core)
    seen = b""
    deadline = time.monotonic() + 30
    while b"Value for" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([child.stderr], [], [], 0.1)
        if ready:
            chunk = os.read(child.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    # The prompt is written just before echo goes off: wait until it is off (or the command ended).
    wait_until(lambda: not echoes(follower) or has_ended(child.pid), deadline)
    extra = ""
    if action.startswith("type:"):
        os.write(leader, action[5:].encode() + b"\n")
    elif action.startswith("type-bytes:"):
        os.write(leader, b"x" * int(action[11:]) + b"\n")
    elif action == "eof":
        os.write(leader, b"\x04")
    elif action.startswith("signal:"):
        child.send_signal(getattr(signal, "SIG" + action[7:]))
    elif action.startswith("suspend:"):
        before, after = action[8:].split(":", 1)
        os.write(leader, before.encode())
        # At once: BEFORE may still be unread when the command stops, and must not be lost.
        child.send_signal(signal.SIGTSTP)
        _, raw = os.waitpid(child.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(raw), f"not stopped: {raw}"
        extra = " stopped-echo=" + ("on" if echoes(follower) else "off")
        child.send_signal(signal.SIGCONT)
        wait_until(lambda: not echoes(follower), time.monotonic() + 30)
        os.write(leader, after.encode() + b"\n")
    # A command that outlives a minute is killed, and says so by its status (137).
    if not wait_until(lambda: has_ended(child.pid), time.monotonic() + 60):
        child.kill()
    _, raw = os.waitpid(child.pid, 0)
    status = 128 + os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)
    core = "yes" if os.WIFSIGNALED(raw) and os.WCOREDUMP(raw) else "no"
    echo = "on" if echoes(follower) else "off"
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)
    sys.stderr.buffer.write(seen + child.stderr.read())
    print(f"status={status} echo={echo} core={core}{extra}", flush=True)


if __name__ == "__main__":
    main()
