"""The double's transfer sessions, and the faults it injects into the secrets sent in them."""
import os

from gi.repository import GLib

from . import transfer
from .bus import SERVICE_PATH


class Sessions:
    """OpenSession, and each secret's way in and out of a session, for FakeService."""

    def on_OpenSession(self, path, arguments, invocation):
        algorithm, client_public = arguments
        session = f"{SERVICE_PATH}/session/s{len(self.keys) + 1}"
        first, count = self.arguments.bad_sessions
        if first <= len(self.keys) + 1 < first + count:
            self.bad_sessions.add(session)
        if algorithm == transfer.ALGORITHM and not self.arguments.plain_only:
            self.keys[session], public = transfer.agree(client_public)
            invocation.return_value(GLib.Variant("(vo)", (GLib.Variant("ay", public), session)))
        elif algorithm == "plain":
            self.keys[session] = None
            invocation.return_value(GLib.Variant("(vo)", (GLib.Variant("s", ""), session)))
        else:
            invocation.return_dbus_error("org.freedesktop.DBus.Error.NotSupported", "Algorithm not supported")

    def decrypt(self, secret):
        session, parameters, value, content_type = secret
        if session in self.foreign_sessions:
            # Decrypted with the other client's key: bytes nobody wrote (as if the padding fit).
            return bytes(value), content_type
        key = self.keys[session]
        if key is None:
            return bytes(value), content_type
        return transfer.decrypt(key, parameters, value), content_type

    def encrypt(self, session, secret, content_type):
        key = self.keys[session]
        if key is None:
            return (session, [], list(secret), content_type)
        if session in self.bad_sessions and self.arguments.bad_sessions_decrypt:
            secret = os.urandom(len(secret) or 1)
        elif self.arguments.garble_secrets or session in self.bad_sessions:
            iv, value = transfer.unpaddable(key)
            return (session, list(iv), list(value), content_type)
        iv, value = transfer.encrypt(key, secret)
        return (session, list(iv), list(value), content_type)
