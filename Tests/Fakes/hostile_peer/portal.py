"""A Secret portal that gives no key, for `serve --portal-version`."""
from gi.repository import Gio, GLib


class FakePortal:
    XML = """
    <node>
      <interface name="org.freedesktop.portal.Secret">
        <method name="RetrieveSecret"><arg type="h" direction="in"/><arg type="a{sv}" direction="in"/>
          <arg type="o" direction="out"/></method>
        <property name="version" type="u" access="read"/>
      </interface>
    </node>"""

    def __init__(self, connection, version):
        self.version = version
        info = Gio.DBusNodeInfo.new_for_xml(self.XML)
        connection.register_object("/org/freedesktop/portal/desktop", info.interfaces[0], self.method, self.property, None)

    def property(self, connection, sender, path, interface, name):
        return GLib.Variant("u", self.version) if name == "version" else None

    def method(self, connection, sender, path, interface, method, parameters, invocation):
        invocation.return_dbus_error("org.freedesktop.portal.Error.NotAllowed", "This fake portal gives no key")
