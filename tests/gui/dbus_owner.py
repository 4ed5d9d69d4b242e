# Owns the bus names given on the command line on the session bus
# ($DBUS_SESSION_BUS_ADDRESS) and answers org.freedesktop.DBus.Peer.Ping
# on them (GDBus does for every connection), until killed. Prints `ready`
# once it owns every name. Used by dbus_lab.sh.
import sys

from gi.repository import Gio, GLib

conn = Gio.bus_get_sync(Gio.BusType.SESSION, None)
for name in sys.argv[1:]:
    reply = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "RequestName", GLib.Variant("(su)", (name, 4)),
                           GLib.VariantType("(u)"), Gio.DBusCallFlags.NONE, -1, None)
    if reply.unpack()[0] != 1:  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
        sys.exit("could not own " + name)
print("ready", flush=True)
GLib.MainLoop().run()
