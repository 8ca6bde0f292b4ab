"""Messages in the office's language: one catalogue, Chinese (zh-CN) by default, English on request.

Every text gridgis shows to a person — CLI messages and ``--help``, error messages, validation
rule titles and fixes, report and page text, legends, axis and progress labels, the headers and
values of tables written for people — is written in the code as an English *message id* and
looked up in the gettext catalogue ``gridgis/locale/<lang>/LC_MESSAGES/gridgis.po`` (compiled to
``gridgis.mo`` beside it; both ship as package data, nothing is built at run time).

Choosing the language (first that is set wins):

* Python: ``gridgis.set_language("en")`` (or ``with use_language("en"): ...``);
* CLI: ``gridgis --lang en <verb> ...`` (the option goes before the verb);
* environment: ``GRIDGIS_LANG=en`` (``zh``, ``zh_CN``, ``zh-CN``, ``en``, ``en_US`` … accepted);
* default: ``zh``.

Writing a message::

    from gridgis.i18n import N_, _, tr

    raise InputFileError(tr("cannot read {path}", path=path), fix=_("save it as UTF-8"))
    say(tr("{n} grids written", n=len(grids)))
    TITLE = N_("Gap")          # marked at import time, translated where shown: _(TITLE)

* ``_(msgid)`` translates a constant text; ``tr(msgid, **fields)`` translates and then fills
  ``{name}`` fields with :meth:`str.format` (format specs such as ``{share:.0%}`` work). Never
  pass an f-string or a concatenation: the id must be a literal so it can be extracted.
* ``N_(msgid)`` only marks a literal for extraction (module-level tables); translate it with
  ``_()`` where it is shown.
* ``pgettext(context, msgid)`` for short words that need a context: table headers
  (``"column"``), table values (``"value"``) …

Adding a message and its Chinese translation:

1. write it in the code with ``_``/``tr``/``N_``/``pgettext`` (English, a full sentence);
2. run ``python scripts/i18n.py update``: new ids are added to every ``.po`` file;
3. fill its ``msgstr`` in ``gridgis/locale/zh_CN/LC_MESSAGES/gridgis.po`` (and in the ``en``
   catalogue for a ``pgettext`` id whose English differs from the id);
4. run ``python scripts/i18n.py compile`` to refresh the ``.mo`` files.

``tests/test_i18n.py`` fails when an id has no Chinese translation, when the fields of a
translation differ from its id's, when a ``.mo`` is older than its ``.po``, and when a module
formats a user-facing English sentence outside the catalogue.

Examples
--------
>>> with use_language("zh"):
...     _("Options"), tr("use one of: {choices}", choices="zh, en")
('选项', '请使用以下之一：zh, en')
>>> with use_language("en"):
...     _("Options")
'Options'
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "ENV_VAR",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "_",
    "get_language",
    "ngettext",
    "normalize_language",
    "pgettext",
    "set_language",
    "tr",
    "use_language",
]

#: Languages gridgis speaks: Chinese (zh-CN) and English.
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
#: Environment variable read when no language was set in Python or on the CLI.
ENV_VAR = "GRIDGIS_LANG"
DOMAIN = "gridgis"
LOCALE_DIR = Path(__file__).with_name("locale")
#: gettext locale folder of each language
_LOCALES = {"zh": "zh_CN", "en": "en"}

_chosen: str | None = None


def normalize_language(value: str) -> str:
    """``"zh"`` or ``"en"`` for a language name such as ``zh_CN.UTF-8``, ``zh-Hans``, ``en-US``.

    Raises :class:`gridgis.errors.GridGISError` for a language gridgis does not speak.

    Examples
    --------
    >>> normalize_language("zh_CN.UTF-8"), normalize_language("EN-us")
    ('zh', 'en')
    """
    key = str(value).strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    if key in LANGUAGES:
        return key
    from .errors import GridGISError  # errors imports this module

    raise GridGISError(tr("unknown language {value!r}", value=value),
                       fix=tr("use one of: {choices}", choices=", ".join(LANGUAGES)))


def set_language(language: str | None) -> str:
    """Speak ``language`` (``"zh"`` or ``"en"``) from now on; ``None`` goes back to the default.

    The default is ``$GRIDGIS_LANG`` when set, else Chinese. Returns the language now in use.

    Examples
    --------
    >>> import gridgis
    >>> gridgis.set_language("en")
    'en'
    >>> gridgis.set_language(None) in LANGUAGES
    True
    """
    global _chosen
    _chosen = None if language is None else normalize_language(language)
    return get_language()


def get_language() -> str:
    """The language in use: set in Python/CLI, else ``$GRIDGIS_LANG``, else ``"zh"``.

    Examples
    --------
    >>> with use_language("en"):
    ...     get_language()
    'en'
    """
    if _chosen is not None:
        return _chosen
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        try:
            return normalize_language(env)
        except Exception:  # a wrong variable must not stop every message; the CLI reports it
            return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


@contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Speak ``language`` inside the block, then go back to the language used before.

    Examples
    --------
    >>> with use_language("zh") as lang:
    ...     lang, _("Commands")
    ('zh', '命令')
    """
    global _chosen
    before = _chosen
    try:
        yield set_language(language)
    finally:
        _chosen = before


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    try:
        return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR),
                                   languages=[_LOCALES[language]])
    except OSError:  # no catalogue for this language: the English ids are the texts
        return gettext.NullTranslations()


def _(msgid: str) -> str:
    """``msgid`` (an English literal) in the language in use.

    Examples
    --------
    >>> with use_language("zh"):
    ...     _("Arguments")
    '参数'
    """
    return _catalogue(get_language()).gettext(msgid)


def tr(msgid: str, /, **fields: Any) -> str:
    """``msgid`` translated, then its ``{name}`` fields filled from ``fields``.

    Examples
    --------
    >>> with use_language("zh"):
    ...     tr("use one of: {choices}", choices="zh, en")
    '请使用以下之一：zh, en'
    """
    return _(msgid).format(**fields)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural text for ``n`` (Chinese has one form), translated.

    Examples
    --------
    >>> with use_language("en"):
    ...     ngettext("{n} grid", "{n} grids", 2).format(n=2)
    '2 grids'
    """
    return _catalogue(get_language()).ngettext(singular, plural, n)


def pgettext(context: str, msgid: str) -> str:
    """``msgid`` in ``context`` (``"column"``, ``"value"`` …), translated.

    Without a translation in that context the id itself is returned.

    Examples
    --------
    >>> with use_language("en"):
    ...     pgettext("value", "a value without translation")
    'a value without translation'
    """
    return _catalogue(get_language()).pgettext(context, msgid)


def N_(msgid: str) -> str:
    """Mark ``msgid`` for the catalogue without translating it now (translate with ``_()``).

    Examples
    --------
    >>> N_("Gap")
    'Gap'
    """
    return msgid
