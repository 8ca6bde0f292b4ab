"""The CLI in the language in use: ``--lang`` read before the verb, help texts from the catalogue.

Help texts stay English message ids where they are written (``help=`` of options, docstrings of
verbs); :func:`localized_command` builds the Click command of the app and translates them.
``scripts/i18n.py`` collects them with :func:`help_texts` so every one has its Chinese
translation in the catalogue.

Typer's and Click's own words go through the same catalogue, each by the hook the library
offers: Typer looks its words up with :func:`gettext.gettext` (``typer.core._``; the panel
titles and hints are constants of ``typer.rich_utils``), which :func:`localized_command` points
at :func:`gridgis.i18n._`; Click's usage line takes its prefix from the context's help
formatter (a subclass here, per command); the type of an option's value is its metavariable;
usage errors are written from the exception's fields by :func:`usage_error_text`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

import typer

from ..i18n import N_, _, get_language, normalize_language, pgettext, tr

__all__ = ["help_texts", "lang_argument", "localized_command", "missing_typer_hooks", "show_usage_error",
           "usage_error_text"]

# Typer's own words (typer.rich_utils), English ids translated from the catalogue
_TYPER_WORDS = {
    "DEFAULT_STRING": N_("[default: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "ENVVAR_STRING": N_("[env var: {}]"),
    "DEPRECATED_STRING": N_("(deprecated) "),
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
}
# words Typer translates with gettext where it uses them (typer.core), for the catalogue
_TYPER_CORE_WORDS = (N_("(dynamic)"), N_("Aborted!"), N_("default: {default}"), N_("required"),
                     N_("env var: {var}"), N_("Missing command."), N_("No such command {name!r}."))
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
    """The app's Click command, then every verb and sub-verb below it."""
    todo = [typer.main.get_command(app)]
    while todo:
        command = todo.pop(0)
        yield command
        todo += list(getattr(command, "commands", {}).values())


def _unwrapped(text: str) -> str:
    """``text`` with the line breaks inside its paragraphs removed (Typer keeps them after the
    first paragraph, so a docstring's wrapping would show as ragged lines)."""
    return "\n\n".join(part if part.startswith("\b") else " ".join(part.split())
                       for part in _plain(text).split("\n\n"))


def _plain(text: str) -> str:
    """A help text without the docstrings' markup of code (double backticks): commands and
    names shown as they are typed.

    Examples
    --------
    >>> _plain("Example: ``gridgis demo -o out``")
    'Example: gridgis demo -o out'
    """
    return re.sub(r"``(.+?)``", r"\1", text, flags=re.DOTALL)


def missing_typer_hooks() -> list[str]:
    """The names of Typer's internals that :func:`localized_command` and
    :func:`usage_error_text` rely on and the installed Typer lacks (empty: all there).

    Typer's own words are hooked by name; a Typer that renames or drops one would let English
    through silently, so the test suite fails on anything listed here.

    Examples
    --------
    >>> missing_typer_hooks()
    []
    """
    import inspect

    import typer.core
    import typer.rich_utils as ru

    missing = [f"typer.rich_utils.{name}" for name in _TYPER_WORDS if not hasattr(ru, name)]
    try:  # each constant is still Typer's own English word, looked up with gettext
        source = inspect.getsource(ru)
    except OSError:
        source = ""
    missing += [f"typer.rich_utils.{name} = _({msgid!r})" for name, msgid in _TYPER_WORDS.items()
                if source and f'{name} = _("{msgid}")' not in source]
    if not callable(getattr(typer.core, "_", None)):
        missing.append("typer.core._ (gettext)")
    core_source = inspect.getsource(typer.core)
    missing += [f"typer.core: _({word!r})" for word in _TYPER_CORE_WORDS
                if f'_("{word}")' not in core_source]
    checks = {
        "typer.core.TyperOption.display_type_rich": hasattr(typer.core.TyperOption, "display_type_rich"),
        "typer.core.TyperArgument.display_type": hasattr(typer.core.TyperArgument, "display_type"),
        "typer.rich_utils: param.display_type_rich(ctx=ctx)":
            "param.display_type_rich(ctx=ctx)" in source,
        "typer.core.TyperCommand.context_class.formatter_class.write_usage": hasattr(
            getattr(typer.core.TyperCommand.context_class, "formatter_class", None), "write_usage"),
    }
    missing += [name for name, ok in checks.items() if not ok]
    try:
        from typer._click import exceptions as click_exc
    except ImportError:
        return [*missing, "typer._click.exceptions"]
    fields = {"NoSuchOption": ("option_name", "possibilities"),
              "MissingParameter": ("param_type", "param_hint", "param"),
              "BadParameter": ("param_hint", "param", "ctx", "message"), "UsageError": ("ctx",)}
    for kind, attrs in fields.items():
        cls = getattr(click_exc, kind, None)
        if cls is None:
            missing.append(f"typer._click.exceptions.{kind}")
            continue
        init = inspect.getsource(cls)
        missing += [f"typer._click.exceptions.{kind}.{a}" for a in attrs if f"self.{a}" not in init
                    and not any(f"self.{a}" in inspect.getsource(b) for b in cls.__mro__[1:]
                                if b.__module__ == cls.__module__)]
    return missing


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


def _value_type(param: Any, ctx: Any) -> str | None:
    """The type of an option's value as the help shows it (``<文本>``), ``""`` for a flag."""
    if getattr(param, "is_flag", False) and not getattr(param, "metavar", None):
        return ""
    shown = param.display_type(ctx) if hasattr(param, "display_type") else None
    words = {"<str>": pgettext("value type", "<text>"), "<int>": pgettext("value type", "<integer>"),
             "<float>": pgettext("value type", "<number>"), "<path>": pgettext("value type", "<path>"),
             "<file>": pgettext("value type", "<file>"), "<bool>": pgettext("value type", "<yes|no>"),
             "<int range>": pgettext("value type", "<integer>"),
             "<float range>": pgettext("value type", "<number>"),
             "<list[str]>": pgettext("value type", "<text, repeatable>")}
    return words.get(shown) if isinstance(shown, str) else None


@cache
def _localized_context(base: type) -> type:
    """A context class of ``base`` whose help formatter writes "Usage:" from the catalogue."""

    class Formatter(base.formatter_class):  # type: ignore[name-defined,misc]
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, _("Usage: ") if prefix is None else prefix)

    return type(f"Localized{base.__name__}", (base,), {"formatter_class": Formatter})


def localized_command(app: typer.Typer) -> Any:
    """The app's Click command with every help text in the language in use.

    Examples
    --------
    >>> from gridgis.cli import app
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     command = localized_command(app)
    ...     command.get_usage(command.context_class(command)).split()[0]
    '用法：'
    """
    import typer.core
    import typer.rich_utils as ru

    for name, msgid in _TYPER_WORDS.items():
        if hasattr(ru, name):
            setattr(ru, name, _(msgid))
    if hasattr(typer.core, "_"):  # typer.core's gettext: from our catalogue, in the language in use
        typer.core._ = _  # type: ignore[attr-defined]
    commands = list(_commands(app))
    for command in commands:
        command.context_class = _localized_context(command.context_class)
        ctx = typer.Context(command)
        for attr in ("help", "short_help"):
            if getattr(command, attr, None):
                setattr(command, attr, _unwrapped(_(getattr(command, attr))))
        for param in _params(command):
            if getattr(param, "help", None):
                param.help = _plain(_(_HELP_OPTION if param.help == _HELP_OPTION else param.help))
            shown = _value_type(param, ctx) if param.metavar is None else None
            if shown is not None:  # this run's Click object: the type column in the language
                param.display_type_rich = lambda ctx, shown=shown: shown
    return commands[0]


def _hint(exc: Any) -> str:
    """The parameter an error is about: ``'--paper'`` or ``'PLAN'``."""
    if getattr(exc, "param_hint", None) is not None:
        hint = exc.param_hint
        return " / ".join(repr(h) for h in hint) if isinstance(hint, (list, tuple)) else str(hint)
    param = getattr(exc, "param", None)
    return param.get_error_hint() if param is not None else ""


def usage_error_text(exc: Any) -> str:
    """The message of a Click usage error in the language in use, written from its fields.

    Examples
    --------
    >>> from typer._click.exceptions import NoSuchOption
    >>> from gridgis.i18n import use_language
    >>> with use_language("zh"):
    ...     usage_error_text(NoSuchOption("--nope", possibilities=["--note"]))
    '没有这个选项：--nope（可能是：--note）'
    """
    kind = type(exc).__name__
    if kind == "NoSuchOption":
        text = tr("No such option: {option}", option=exc.option_name)
        if exc.possibilities:
            text += tr(" (possible options: {options})", options=", ".join(sorted(exc.possibilities)))
        return text
    if kind == "MissingParameter":
        what = exc.param_type or (exc.param.param_type_name if exc.param is not None else "")
        if what == "argument":
            return tr("Missing argument {name}.", name=_hint(exc))
        if what == "option":
            return tr("Missing option {name}.", name=_hint(exc))
        return tr("Missing parameter {name}.", name=_hint(exc))
    if kind in ("BadParameter", "BadOptionUsage", "BadArgumentUsage") or hasattr(exc, "param"):
        hint = _hint(exc)
        message = _(exc.message)
        param, ctx = getattr(exc, "param", None), getattr(exc, "ctx", None)
        if message == exc.message and get_language() != "en" and param is not None:
            # the library's own wording (a validator's sentence): say what the value must be
            shown = _value_type(param, ctx) if ctx is not None else None
            message = tr("the value must be {type}", type=shown) if shown else _("not valid")
        return tr("Invalid value for {name}: {message}", name=hint, message=message) if hint \
            else tr("Invalid value: {message}", message=message)
    if exc.message.startswith("Got unexpected extra argument"):
        return tr("Unexpected extra arguments: {args}",
                  args=exc.message.partition("(")[2].rstrip(")"))
    return _(exc.message)


def show_usage_error(exc: Any, error: Any) -> None:
    """Write a usage error: the usage line, where to find help, and the message by ``error``."""
    import sys

    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        print(ctx.get_usage(), file=sys.stderr)
        if ctx.command.get_help_option(ctx) is not None:
            print(tr("Try '{command} {option}' for help.", command=ctx.command_path,
                     option=ctx.help_option_names[0]), file=sys.stderr)
        print(file=sys.stderr)
    error(usage_error_text(exc))
