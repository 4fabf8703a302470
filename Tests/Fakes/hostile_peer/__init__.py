"""The parts of hostile-peer.py: a fake Secret Service that injects faults, and a forger of
signals. GDBus through Debian's python3-gi."""
import gi

gi.require_version("Gio", "2.0")
