"""The fake Secret Service: its objects, their properties, and the dispatch of its calls."""
import os

from gi.repository import Gio, GLib

from .bus import COLLECTION_PATH, LATE_COLLECTION, SERVICE_PATH, bus
from .prompts import Prompts
from .searches import Searches
from .sessions import Sessions
from .writes import Writes


class FakeService(Sessions, Searches, Writes, Prompts):
    """Enough of the Secret Service for SecureStore: encrypted sessions, items in memory."""

    XML = """
    <node>
      <interface name="org.freedesktop.Secret.Service">
        <method name="OpenSession"><arg type="s" direction="in"/><arg type="v" direction="in"/>
          <arg type="v" direction="out"/><arg type="o" direction="out"/></method>
        <method name="SearchItems"><arg type="a{ss}" direction="in"/>
          <arg type="ao" direction="out"/><arg type="ao" direction="out"/></method>
        <method name="GetSecrets"><arg type="ao" direction="in"/><arg type="o" direction="in"/>
          <arg type="a{o(oayays)}" direction="out"/></method>
        <method name="ReadAlias"><arg type="s" direction="in"/><arg type="o" direction="out"/></method>
        <method name="Unlock"><arg type="ao" direction="in"/><arg type="ao" direction="out"/>
          <arg type="o" direction="out"/></method>
        <property name="Collections" type="ao" access="read"/>
      </interface>
      <interface name="org.freedesktop.Secret.Collection">
        <method name="SearchItems"><arg type="a{ss}" direction="in"/><arg type="ao" direction="out"/></method>
        <method name="CreateItem"><arg type="a{sv}" direction="in"/><arg type="(oayays)" direction="in"/>
          <arg type="b" direction="in"/><arg type="o" direction="out"/><arg type="o" direction="out"/></method>
        <property name="Locked" type="b" access="read"/>
        <property name="Label" type="s" access="read"/>
        <property name="Items" type="ao" access="read"/>
      </interface>
      <interface name="org.freedesktop.Secret.Item">
        <method name="SetSecret"><arg type="(oayays)" direction="in"/></method>
        <method name="Delete"><arg type="o" direction="out"/></method>
        <property name="Attributes" type="a{ss}" access="readwrite"/>
        <property name="Label" type="s" access="read"/>
        <property name="Locked" type="b" access="read"/>
        <property name="Created" type="t" access="read"/>
        <property name="Modified" type="t" access="read"/>
      </interface>
      <interface name="org.freedesktop.Secret.Prompt">
        <method name="Prompt"><arg type="s" direction="in"/></method>
        <method name="Dismiss"/>
      </interface>
    </node>"""

    def __init__(self, arguments):
        self.arguments = arguments
        self.connection = bus()
        self.forger = Gio.DBusConnection.new_for_address_sync(
            Gio.dbus_address_get_for_bus_sync(Gio.BusType.SESSION, None),
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.keys = {}  # session path -> AES key, None for a plain session
        self.items = {}  # item path -> {"attributes", "label", "secret", "registration"}
        self.created = 0
        self.prompts = 0
        self.announced_writes = 0
        self.pending_prompts = {}  # prompt path -> (registration, collection path, CreateItem's arguments)
        self.unlock_prompts = set()  # prompts of Unlock (--unlock-prompt)
        self.pending_deletes = {}  # prompt path -> (registration, item path), with --delete-prompts
        self.writes = 0
        self.bad_sessions = set()
        self.searches_to_fail = 0
        self.handed_over = False
        self.collection_searches = 0
        self.late_collection_open = False
        self.secrets_read = 0
        self.silently_locked = False
        # A session some other client opened, with a key this one never shares.
        self.foreign_sessions = {f"{SERVICE_PATH}/session/s1"} if arguments.foreign_session else set()
        for session in self.foreign_sessions:
            self.keys[session] = os.urandom(16)
        self.dropped = []
        self.info = Gio.DBusNodeInfo.new_for_xml(self.XML)
        for path, interface in [(SERVICE_PATH, self.info.interfaces[0]), (COLLECTION_PATH, self.info.interfaces[1]),
                                ("/org/freedesktop/secrets/aliases/default", self.info.interfaces[1]),
                                (LATE_COLLECTION, self.info.interfaces[1])]:
            self.connection.register_object(path, interface, self.method, self.property, None)

    def property(self, connection, sender, path, interface, name):
        item = self.items.get(path)
        if item is not None:
            return {"Attributes": GLib.Variant("a{ss}", item["attributes"]), "Label": GLib.Variant("s", item["label"]),
                    "Locked": GLib.Variant("b", False), "Created": GLib.Variant("t", item["created"]),
                    "Modified": GLib.Variant("t", item["modified"])}.get(name)
        collections = [COLLECTION_PATH] + ([LATE_COLLECTION] if self.late_collection_open else [])
        return {"Collections": GLib.Variant("ao", collections), "Locked": GLib.Variant("b", self.arguments.stays_locked or self.silently_locked),
                "Label": GLib.Variant("s", "Login"), "Items": GLib.Variant("ao", list(self.items))}.get(name)

    def set_property(self, connection, sender, path, interface, name, value):
        """An item's Attributes, as KeePassXC sets them: announced as the item changed. Refused with
        --refuse-attributes, as by a database locked since the write began."""
        if path not in self.items or self.arguments.refuse_attributes:
            print("attributes refused", flush=True)
            return False
        self.items[path]["attributes"] = dict(value.unpack())
        print("attributes set", flush=True)
        self.announce("ItemChanged", path)
        return True

    def method(self, connection, sender, path, interface, method, parameters, invocation):
        if method in self.arguments.drop_replies:
            self.dropped.append(invocation)  # kept, never answered
            return
        if interface == "org.freedesktop.Secret.Collection" and method == "SearchItems":
            method = "CollectionSearchItems"
        handler = getattr(self, "on_" + method, None)
        if handler is None:
            invocation.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method)
            return
        try:
            handler(path, parameters.unpack(), invocation)
        except LookupError as error:
            invocation.return_dbus_error("org.freedesktop.Secret.Error.NoSuchObject", str(error))
