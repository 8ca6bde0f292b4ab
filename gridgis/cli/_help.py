"""The CLI in the language in use: ``--lang`` read before the verb, help texts from the catalogue.

Help texts stay English message ids where they are written (``help=`` of options, docstrings of
verbs); :func:`localized_command` builds the Click command of the app and translates them, and
Typer's own words (panel titles, "[default: …]") too. ``scripts/i18n.py`` collects them with
:func:`help_texts` so every one has its Chinese translation in the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import typer

from ..i18n import N_, _, normalize_language

__all__ = ["help_texts", "lang_argument", "localized_command"]

# Typer's own words (typer.rich_utils), English ids translated from the catalogue
_TYPER_WORDS = {
    "DEFAULT_STRING": N_("[default: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
}
_HELP_OPTION = N_("Show this message and exit.")


def lang_argument(argv: Sequence[str]) -> str | None:
    """The value of ``--lang`` given before the verb, or ``None``.

    Examples
    --------
    >>> lang_argument(["-q", "--lang", "en", "demo"]), lang_argument(["--lang=zh", "demo"])
    ('en', 'zh')
    >>> lang_argument(["demo", "--lang", "en"]) is None
    True
    """
    args = list(argv)
    for i, arg in enumerate(args):
        if not arg.startswith("-"):
            return None  # the verb: options after it are the verb's
        if arg == "--lang" and i + 1 < len(args):
            return normalize_language(args[i + 1])
        if arg.startswith("--lang="):
            return normalize_language(arg.split("=", 1)[1])
    return None


def _commands(app: typer.Typer) -> Iterator[Any]:
    root = typer.main.get_command(app)
    yield root
    yield from getattr(root, "commands", {}).values()


def _params(command: Any) -> Iterator[Any]:
    yield from command.params
    option = command.get_help_option(typer.Context(command))
    if option is not None:
        yield option


def help_texts(app: typer.Typer | None = None) -> list[str]:
    """Every help text of the CLI as written in the code (English message ids)."""
    if app is None:
        from . import app
    texts: list[str] = []
    for command in _commands(app):
        texts += [text for text in (command.help, command.short_help) if text]
        texts += [p.help for p in command.params if getattr(p, "help", None)]
    return sorted(set(texts))


def localized_command(app: typer.Typer) -> Any:
    """The app's Click command with every help text in the language in use."""
    import typer.rich_utils as ru

    for name, msgid in _TYPER_WORDS.items():
        if hasattr(ru, name):
            setattr(ru, name, _(msgid))
    commands = list(_commands(app))
    for command in commands:
        for attr in ("help", "short_help"):
            if getattr(command, attr, None):
                setattr(command, attr, _(getattr(command, attr)))
        for param in _params(command):
            if getattr(param, "help", None):
                param.help = _(_HELP_OPTION if param.help == _HELP_OPTION else param.help)
    return commands[0]
