"""The phone tool catalogue: version 1 (``shared/TOOLS-v1.md``) and the tools version 2
adds (``shared/TOOLS-v2.md``); names and shapes are stable.

Every tool is declared here exactly once. Adding a tool is adding a ``ToolSpec``;
changing a name or an argument shape is a new catalogue version. ``CATALOGUE`` is every
tool the daemon serves; ``CATALOGUE_V1`` and ``CATALOGUE_V2`` each have their table in
``docs/`` (``make tools-doc``).
"""

from __future__ import annotations

from collections.abc import Mapping

from agentd.tools.phrases import say_duration
from agentd.tools.registry import (
    Arg,
    Risk,
    ToolSpec,
    by_variant,
    choice,
    clock_time,
    contact,
    coordinate,
    duration,
    name_,
    path,
    percent,
    period,
    said_day,
    text,
    toggle,
)

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
MEDIA_ACTIONS = ("play", "pause", "next", "previous", "stop")
KEYS = ("back", "home", "enter", "menu", "power", "volume_up", "volume_down", "tab",
        "escape", "backspace", "space", "up", "down", "left", "right")


def _label(what: str) -> Arg:
    return name_("label", f"a name for the {what}, as the user said it", required=False,
                 max_length=80, max_words=5)


_LEVEL = percent("value", "true/false for toggles, 0-100 for levels")
_TOGGLE = toggle("value", "true/false for toggles, 0-100 for levels")


def _timer_summary(args: Mapping[str, object]) -> str:
    label = f"{args['label']} " if args.get("label") else ""
    return f"Start a {label}timer for {say_duration(args.get('duration_s', 0))}"


def _calendar_add_summary(args: Mapping[str, object]) -> str:
    when = f" at {args['time']}" if args.get("time") else ""
    return f"Add “{args.get('title')}” to the calendar on {args.get('day')}{when}"


def _messages_summary(args: Mapping[str, object]) -> str:
    who = f" from {args['from']}" if args.get("from") else ""
    limit = args.get("limit")
    if limit == 1:
        return f"Read the latest text message{who}"
    return f"Read the latest {limit} text messages{who}" if limit else \
        f"Read the text messages{who}"


CATALOGUE_V1: tuple[ToolSpec, ...] = (
    ToolSpec("clock.time", "Say the current time and date.", Risk.READ,
             summary="Tell the time", trusted=True),
    ToolSpec("timer.start", "Start a countdown; a notification when it ends.", Risk.LOCAL,
             (duration("duration_s", "length of the timer in seconds"), _label("timer")),
             summary=lambda a: _timer_summary(a), trusted=True),
    ToolSpec("timer.cancel", "Cancel the named or the only running timer.", Risk.LOCAL,
             (_label("timer"),), summary="Cancel the {label} timer", trusted=True),
    ToolSpec("alarm.set", "Set an alarm for the next occurrence of a time of day.", Risk.LOCAL,
             (clock_time("time", 'time of day, 24-hour "HH:MM"'), _label("alarm")),
             summary="Set an alarm for {time} {label}", trusted=True),
    ToolSpec("screen.capture", "Save a screenshot to Pictures/Screenshots and report its path.",
             Risk.READ, capability="screen", summary="Take a screenshot", trusted=True),
    ToolSpec("screen.read", "Describe what is on screen: the focused app and its visible text.",
             Risk.READ, capability="accessibility", summary="Read the screen",
             untrusted="text on the screen"),
    # input.* is external: a tap or a key can press any button on the screen, Send too.
    ToolSpec("input.tap", "Tap a widget by its visible name, or a point on the screen.",
             Risk.EXTERNAL,
             (name_("target", "visible name of the widget", required=False, max_length=200,
                    max_words=6),
              coordinate("x", "x coordinate in screen pixels", required=False),
              coordinate("y", "y coordinate in screen pixels", required=False)),
             capability="input", one_of=(("target",), ("x", "y")),
             summary="Tap {target}{x} {y}"),
    ToolSpec("input.type", "Type text into the focused field.", Risk.EXTERNAL,
             (text("text", "the text to type", max_length=2000),),
             capability="input", summary="Type “{text}”"),
    ToolSpec("input.key", "Press a key or button.", Risk.EXTERNAL,
             (choice("key", "the key to press", KEYS),),
             capability="input", summary="Press the {key} key"),
    ToolSpec("notifications.list", "Read out the notifications received since last read.",
             Risk.READ, capability="notifications", summary="Read the notifications",
             untrusted="notifications from other apps"),
    ToolSpec("notifications.clear", "Dismiss all notifications.", Risk.LOCAL,
             capability="notifications", summary="Dismiss all notifications", trusted=True),
    ToolSpec("notifications.send", "Show a notification.", Risk.LOCAL,
             (text("summary", "the notification's title", max_length=200),
              text("body", "the notification's text", required=False, max_length=2000)),
             capability="notifications", summary="Show the notification “{summary}”",
             trusted=True),
    ToolSpec("files.find", "Find files in the user's folders by name words and kind.",
             Risk.READ,
             (name_("query", "words from the file's name", max_length=200, max_words=6),
              choice("kind", "kind of file", FILE_KINDS, required=False)),
             capability="files", summary="Find files matching “{query}” {kind}",
             untrusted="file names"),
    ToolSpec("files.list", "List one of the user's folders.", Risk.READ,
             (choice("folder", "which folder", FOLDERS),),
             capability="files", summary="List the {folder} folder", untrusted="file names"),
    ToolSpec("files.move", "Move a file into one of the user's folders.", Risk.LOCAL,
             (path("path", "the file, as found by files.find"),
              choice("folder", "destination folder", FOLDERS)),
             capability="files", summary="Move {path} to {folder}"),
    ToolSpec("files.trash", "Move a file to the trash (never deletes).", Risk.LOCAL,
             (path("path", "the file, as found by files.find"),),
             capability="files", summary="Move {path} to the trash"),
    ToolSpec("apps.open", "Open an app by its common name.", Risk.LOCAL,
             (name_("app", 'the app\'s common name ("camera", "settings")', max_words=3),),
             capability="apps", summary="Open {app}"),
    ToolSpec("apps.list", "List installed apps.", Risk.READ, capability="apps",
             summary="List the installed apps"),
    ToolSpec("settings.get", "Read a setting.", Risk.READ,
             (choice("setting", "which setting", SETTINGS),),
             capability="settings", summary="Read the {setting} setting", trusted=True),
    ToolSpec("settings.set",
             "Change a setting: toggles take true/false, brightness and volume a percent.",
             Risk.LOCAL,
             (choice("setting", "which setting", SETTINGS),
              by_variant("value", "true/false for toggles, 0-100 for levels", _TOGGLE, _LEVEL)),
             capability="settings", summary="Set {setting} to {value}", trusted=True,
             variants=((choice("setting", "which setting", TOGGLE_SETTINGS), _TOGGLE),
                       (choice("setting", "which setting", LEVEL_SETTINGS), _LEVEL))),
    ToolSpec("device.battery", "Battery level and charging state.", Risk.READ,
             capability="power", summary="Check the battery", trusted=True),
    ToolSpec("sms.send", "Send a text message to a contact name or number.", Risk.EXTERNAL,
             (contact("to", "contact name or phone number"),
              text("text", "the message", max_length=1000)),
             capability="telephony", summary="Send a text message to {to}: “{text}”",
             trusted=True),
    ToolSpec("call.dial", "Place a phone call.", Risk.EXTERNAL,
             (contact("to", "contact name or phone number"),),
             capability="telephony", summary="Call {to}", trusted=True),
    ToolSpec("agent.history", "What agentd did, from its journal.", Risk.READ,
             (period("since", 'how far back: "today", "yesterday", "HH:MM", '
                     '"YYYY-MM-DD" or a number of hours like "2h"', required=False),),
             summary="Tell what agentd did {since}",
             untrusted="earlier tasks"),
)

_MEDIA_SUMMARY = {"play": "Play the music", "pause": "Pause the music",
                  "next": "Skip to the next track", "previous": "Go back a track",
                  "stop": "Stop the music"}

CATALOGUE_V2: tuple[ToolSpec, ...] = (
    # The user's own address book: trusted.
    ToolSpec("contacts.find", "Find contacts by name or nickname; their names and numbers.",
             Risk.READ, (contact("name", 'the name or nickname ("Anna", "mom")'),),
             capability="contacts", summary="Look up {name} in the contacts", trusted=True),
    # Others wrote them: untrusted.
    ToolSpec("messages.list", "Read received text messages, newest first.", Risk.READ,
             (contact("from", "who sent them: a contact's name or a number", required=False),
              Arg("limit", (int,), "how many, newest first (default 5)", required=False,
                  minimum=1, maximum=20)),
             capability="messages", summary=lambda a: _messages_summary(a),
             untrusted="text messages (others wrote them)"),
    ToolSpec("media.control", "Control the media player: play, pause, next, previous, stop.",
             Risk.LOCAL, (choice("action", "what to do (play also resumes)", MEDIA_ACTIONS),),
             capability="media", summary=lambda a: _MEDIA_SUMMARY.get(str(a.get("action")),
                                                     "Control the media player"),
             trusted=True),
    ToolSpec("media.now_playing", "What the media player plays: title, artist, player.",
             Risk.READ, capability="media", summary="Tell what is playing",
             untrusted="what is playing (titles from files and streams)"),
    # Events arrive as invitations others wrote: untrusted.
    ToolSpec("calendar.list", "List the events of a day in the user's calendars.", Risk.READ,
             (said_day("day", 'the day: "today" (default), "tomorrow", a weekday, "MM-DD" or '
                       '"YYYY-MM-DD"', required=False),),
             capability="calendar",
             summary=lambda a: f"List the events of {a.get('day') or 'today'}",
             untrusted="calendar events (invitations come from others)"),
    ToolSpec("calendar.add", "Add an event to the user's default calendar.", Risk.LOCAL,
             (name_("title", "what the event is", max_length=200, max_words=8),
              said_day("day", 'the day: "today", "tomorrow", a weekday, "MM-DD" or '
                       '"YYYY-MM-DD"'),
              clock_time("time", 'when it starts, 24-hour "HH:MM"; none: all day',
                         required=False),
              Arg("duration_min", (int,), "length in minutes (default 60)", required=False,
                  minimum=1, maximum=24 * 60)),
             capability="calendar", summary=lambda a: _calendar_add_summary(a), trusted=True),
    # The phone's own position, from its location service: trusted.
    ToolSpec("location.get", "Where the phone is: its coordinates and how accurate they are.",
             Risk.READ, capability="location", summary="Find where the phone is",
             trusted=True),
)

CATALOGUE: tuple[ToolSpec, ...] = CATALOGUE_V1 + CATALOGUE_V2
