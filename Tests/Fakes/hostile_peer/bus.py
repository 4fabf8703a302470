"""The names and paths the double serves, and its calls as a client of the bus."""
from gi.repository import Gio, GLib

SERVICE = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
COLLECTION_PATH = "/org/freedesktop/secrets/collection/login"
LOCKED_DUPLICATE = "/org/freedesktop/secrets/collection/other/1"
LATE_COLLECTION = "/org/freedesktop/secrets/collection/late"


def bus():
    return Gio.bus_get_sync(Gio.BusType.SESSION, None)


def call(connection, destination, path, interface, method, args, reply_type):
    return connection.call_sync(destination, path, interface, method, args, GLib.VariantType(reply_type),
                                Gio.DBusCallFlags.NONE, 5000, None).unpack()


def connections_of(connection, pid):
    names = call(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                 "ListNames", None, "(as)")[0]
    found = []
    for name in names:
        if not name.startswith(":"):
            continue
        try:
            owner_pid = call(connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                             "GetConnectionUnixProcessID", GLib.Variant("(s)", (name,)), "(u)")[0]
        except GLib.Error:
            continue
        if owner_pid == pid:
            found.append(name)
    return found
