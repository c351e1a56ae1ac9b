"""The phone tool catalogue, version 1 (``shared/TOOLS-v1.md``): names and shapes are stable.

Every tool is declared here exactly once. Adding a tool is adding a ``ToolSpec``;
changing a name or an argument shape is a new catalogue version.
"""

from __future__ import annotations

from collections.abc import Mapping

from agentd.tools.phrases import say_duration
from agentd.tools.registry import Arg, Risk, ToolSpec

HHMM = r"([01][0-9]|2[0-3]):[0-5][0-9]"
DAY_S = 24 * 3600

FOLDERS = ("documents", "downloads", "pictures", "music", "videos", "desktop")
FILE_KINDS = ("image", "document", "audio", "video")
TOGGLE_SETTINGS = (
    "wifi",
    "bluetooth",
    "airplane_mode",
    "mobile_data",
    "location",
    "do_not_disturb",
    "dark_mode",
    "flashlight",
)
LEVEL_SETTINGS = ("brightness", "volume")
SETTINGS = TOGGLE_SETTINGS + LEVEL_SETTINGS
KEYS = ("back", "home", "enter", "menu", "power", "volume_up", "volume_down", "tab",
        "escape", "backspace", "space", "up", "down", "left", "right")


def _label(what: str) -> Arg:
    return Arg("label", (str,), f"a name for the {what}, as the user said it",
               required=False, max_length=80)


def _timer_summary(args: Mapping[str, object]) -> str:
    label = f"{args['label']} " if args.get("label") else ""
    return f"Start a {label}timer for {say_duration(args.get('duration_s', 0))}"


CATALOGUE: tuple[ToolSpec, ...] = (
    ToolSpec("clock.time", "Say the current time and date.", Risk.READ,
             summary="Tell the time", trusted=True),
    ToolSpec("timer.start", "Start a countdown; a notification when it ends.", Risk.LOCAL,
             (Arg("duration_s", (int,), "length of the timer in seconds",
                  minimum=1, maximum=DAY_S), _label("timer")),
             summary=lambda a: _timer_summary(a), trusted=True),
    ToolSpec("timer.cancel", "Cancel the named or the only running timer.", Risk.LOCAL,
             (_label("timer"),), summary="Cancel the {label} timer", trusted=True),
    ToolSpec("alarm.set", "Set an alarm for the next occurrence of a time of day.", Risk.LOCAL,
             (Arg("time", (str,), 'time of day, 24-hour "HH:MM"', pattern=HHMM),
              _label("alarm")),
             summary="Set an alarm for {time} {label}", trusted=True),
    ToolSpec("screen.capture", "Save a screenshot to Pictures/Screenshots and report its path.",
             Risk.READ, capability="screen", summary="Take a screenshot", trusted=True),
    ToolSpec("screen.read", "Describe what is on screen: the focused app and its visible text.",
             Risk.READ, capability="accessibility", summary="Read the screen",
             untrusted="text on the screen"),
    # input.* is external: a tap or a key can press any button on the screen, Send too.
    ToolSpec("input.tap", "Tap a widget by its visible name, or a point on the screen.",
             Risk.EXTERNAL,
             (Arg("target", (str,), "visible name of the widget", required=False,
                  max_length=200),
              Arg("x", (int,), "x coordinate in screen pixels", required=False,
                  minimum=0, maximum=10000),
              Arg("y", (int,), "y coordinate in screen pixels", required=False,
                  minimum=0, maximum=10000)),
             capability="input", one_of=(("target",), ("x", "y")),
             summary="Tap {target}{x} {y}"),
    ToolSpec("input.type", "Type text into the focused field.", Risk.EXTERNAL,
             (Arg("text", (str,), "the text to type", max_length=2000),),
             capability="input", summary="Type “{text}”"),
    ToolSpec("input.key", "Press a key or button.", Risk.EXTERNAL,
             (Arg("key", (str,), "the key to press", choices=KEYS),),
             capability="input", summary="Press the {key} key"),
    ToolSpec("notifications.list", "Read out the notifications received since last read.",
             Risk.READ, capability="notifications", summary="Read the notifications",
             untrusted="notifications from other apps"),
    ToolSpec("notifications.clear", "Dismiss all notifications.", Risk.LOCAL,
             capability="notifications", summary="Dismiss all notifications", trusted=True),
    ToolSpec("notifications.send", "Show a notification.", Risk.LOCAL,
             (Arg("summary", (str,), "the notification's title", max_length=200),
              Arg("body", (str,), "the notification's text", required=False,
                  max_length=2000)),
             capability="notifications", summary="Show the notification “{summary}”",
             trusted=True),
    ToolSpec("files.find", "Find files in the user's folders by name words and kind.",
             Risk.READ,
             (Arg("query", (str,), "words from the file's name", max_length=200),
              Arg("kind", (str,), "kind of file", required=False, choices=FILE_KINDS)),
             capability="files", summary="Find files matching “{query}” {kind}",
             untrusted="file names"),
    ToolSpec("files.list", "List one of the user's folders.", Risk.READ,
             (Arg("folder", (str,), "which folder", choices=FOLDERS),),
             capability="files", summary="List the {folder} folder", untrusted="file names"),
    ToolSpec("files.move", "Move a file into one of the user's folders.", Risk.LOCAL,
             (Arg("path", (str,), "the file, as found by files.find", max_length=4096),
              Arg("folder", (str,), "destination folder", choices=FOLDERS)),
             capability="files", summary="Move {path} to {folder}"),
    ToolSpec("files.trash", "Move a file to the trash (never deletes).", Risk.LOCAL,
             (Arg("path", (str,), "the file, as found by files.find", max_length=4096),),
             capability="files", summary="Move {path} to the trash"),
    ToolSpec("apps.open", "Open an app by its common name.", Risk.LOCAL,
             (Arg("app", (str,), 'the app\'s common name ("camera", "settings")',
                  max_length=100),),
             capability="apps", summary="Open {app}"),
    ToolSpec("apps.list", "List installed apps.", Risk.READ, capability="apps",
             summary="List the installed apps"),
    ToolSpec("settings.get", "Read a setting.", Risk.READ,
             (Arg("setting", (str,), "which setting", choices=SETTINGS),),
             capability="settings", summary="Read the {setting} setting", trusted=True),
    ToolSpec("settings.set",
             "Change a setting: toggles take true/false, brightness and volume a percent.",
             Risk.LOCAL,
             (Arg("setting", (str,), "which setting", choices=SETTINGS),
              Arg("value", (bool, int), "true/false for toggles, 0-100 for levels",
                  minimum=0, maximum=100)),
             capability="settings", summary="Set {setting} to {value}",
             check=lambda args: validate_setting_value(args["setting"], args["value"]),
             trusted=True),
    ToolSpec("device.battery", "Battery level and charging state.", Risk.READ,
             capability="power", summary="Check the battery", trusted=True),
    ToolSpec("sms.send", "Send a text message to a contact name or number.", Risk.EXTERNAL,
             (Arg("to", (str,), "contact name or phone number", max_length=100),
              Arg("text", (str,), "the message", max_length=1000)),
             capability="telephony", summary="Send a text message to {to}: “{text}”",
             trusted=True),
    ToolSpec("call.dial", "Place a phone call.", Risk.EXTERNAL,
             (Arg("to", (str,), "contact name or phone number", max_length=100),),
             capability="telephony", summary="Call {to}", trusted=True),
    ToolSpec("agent.history", "What agentd did, from its journal.", Risk.READ,
             (Arg("since", (str,), 'how far back: "today", "yesterday", "HH:MM", '
                  '"YYYY-MM-DD" or a number of hours like "2h"', required=False,
                  max_length=40),),
             summary="Tell what agentd did {since}",
             untrusted="earlier tasks"),
)


def validate_setting_value(setting: object, value: object) -> str | None:
    """Why ``value`` does not fit ``setting`` (toggles want bool, levels a percent), or None."""
    if setting in TOGGLE_SETTINGS and not isinstance(value, bool):
        return f"{setting} is on or off (true/false), not {value!r}"
    if setting in LEVEL_SETTINGS and isinstance(value, bool):
        return f"{setting} is a percentage 0-100, not {value!r}"
    return None
