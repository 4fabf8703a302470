"""The double's prompts, as KeePassXC answers CreateItem and Item.Delete with them."""
import os

from gi.repository import Gio, GLib

from .bus import COLLECTION_PATH, SERVICE_PATH


class Prompts:
    """Prompt and Dismiss, and the prompts' completion, for FakeService."""

    def new_prompt(self):
        """A new prompt object's path and registration."""
        self.prompts += 1
        prompt = f"{SERVICE_PATH}/prompt/p{self.prompts}"
        return prompt, self.connection.register_object(prompt, self.info.interfaces[3], self.method, self.property, None)

    def on_Prompt(self, path, arguments, invocation):
        invocation.return_value(None)
        if path in self.unlock_prompts:
            # --unlock-prompt vanish: the daemon dies under its unlock dialog.
            print("vanishing", flush=True)
            self.connection.flush_sync(None)
            os._exit(0)
        if path in self.pending_deletes:
            GLib.timeout_add(50, lambda: self.complete_delete_prompt(path, invocation.get_sender()))
            return
        if self.arguments.prompts == "never":
            return
        if self.arguments.prompts == "forge":
            # From another connection, to the caller and to everyone: "dismissed".
            for destination in [invocation.get_sender(), None]:
                self.forger.emit_signal(destination, path, "org.freedesktop.Secret.Prompt", "Completed",
                                        GLib.Variant("(bv)", (True, GLib.Variant("s", ""))))
            self.forger.flush_sync(None)
        GLib.timeout_add(0 if self.arguments.prompts == "soon" else 200, lambda: self.complete_prompt(path))

    def complete_prompt(self, prompt):
        registration, collection, arguments = self.pending_prompts.pop(prompt)
        self.connection.unregister_object(registration)
        made = []
        self.create_item(collection, arguments, None, made)
        self.connection.emit_signal(None, prompt, "org.freedesktop.Secret.Prompt", "Completed",
                                    GLib.Variant("(bv)", (not made, GLib.Variant("o", made[0] if made else "/"))))
        return False

    def complete_delete_prompt(self, prompt, caller):
        """--delete-prompts: "yes" deletes the item; "no" and "dismiss" keep it, saying "dismissed" only for
        "dismiss" (KeePassXC 2.7.4 says "dismissed" for a refusal; older KeePassXC's DeleteItemPrompt
        completes as not dismissed whatever the answer)."""
        registration, item_path = self.pending_deletes.pop(prompt)
        self.connection.unregister_object(registration)
        confirmed = self.arguments.delete_prompts == "yes"
        if confirmed and item_path in self.items:
            self.delete_item(item_path)
        elif self.arguments.forge_deletes:
            self.forge_deleted(item_path, caller)
        print("delete " + ("confirmed" if confirmed else "refused"), flush=True)
        self.connection.emit_signal(None, prompt, "org.freedesktop.Secret.Prompt", "Completed",
                                    GLib.Variant("(bv)", (self.arguments.delete_prompts == "dismiss", GLib.Variant("s", ""))))
        return False

    def forge_deleted(self, item_path, caller):
        """--forge-deletes: another connection announces the item deleted, to everyone and to
        the prompt's caller, and the bus has passed that on before the prompt's Completed is sent."""
        for destination in [None, caller]:
            self.forger.emit_signal(destination, COLLECTION_PATH, "org.freedesktop.Secret.Collection", "ItemDeleted",
                                    GLib.Variant("(o)", (item_path,)))
        # The bus takes one connection's messages in order: once it answered this, it had
        # routed the signals.
        self.forger.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId",
                              None, None, Gio.DBusCallFlags.NONE, 5000, None)
        print("forged ItemDeleted", flush=True)

    def on_Dismiss(self, path, arguments, invocation):
        print("dismissed", flush=True)
        invocation.return_value(None)
        pending = self.pending_prompts if path in self.pending_prompts else self.pending_deletes
        if path in pending:
            self.connection.unregister_object(pending.pop(path)[0])
            self.connection.emit_signal(None, path, "org.freedesktop.Secret.Prompt", "Completed",
                                        GLib.Variant("(bv)", (True, GLib.Variant("s", ""))))
