"""Every bus name, object path and interface name agentd uses, in one place."""

BUS_NAME = "io.agentd.Agent1"
AGENT_PATH = "/io/agentd/Agent1"
AGENT_IFACE = "io.agentd.Agent1"
TASK_IFACE = "io.agentd.Task1"
TASK_PATH_PREFIX = AGENT_PATH + "/task/"

DBUS_NAME = "org.freedesktop.DBus"
DBUS_PATH = "/org/freedesktop/DBus"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
OBJECT_MANAGER_IFACE = "org.freedesktop.DBus.ObjectManager"
NOTIFICATIONS_NAME = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"


def task_path(task_id: int) -> str:
    return f"{TASK_PATH_PREFIX}{task_id}"


def task_id_from_path(path: str) -> int | None:
    if not path.startswith(TASK_PATH_PREFIX):
        return None
    tail = path[len(TASK_PATH_PREFIX):]
    return int(tail) if tail.isdigit() and len(tail) < 19 else None
