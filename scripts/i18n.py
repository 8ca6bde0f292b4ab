"""Keep the message catalogue of gridgis up to date (uses Babel, a dev dependency).

    python scripts/i18n.py update    # add new message ids of the code to every .po file
    python scripts/i18n.py compile   # .po -> .mo (the .mo files ship as package data)
    python scripts/i18n.py check     # list ids without a Chinese translation; exit 1 if any

Message ids come from the calls ``_()``, ``tr()``, ``N_()``, ``pgettext()``, ``ngettext()`` in
``gridgis/**.py`` (read with :mod:`ast`, so calls inside f-strings count), from the page
templates (``{%t …%}``, ``{%js …%}``) and from the CLI's help texts (every command's and
option's ``help``, read from the Typer app). See :mod:`gridgis.i18n`.
"""

from __future__ import annotations

import ast
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gridgis"
LOCALE_DIR = PACKAGE / "locale"
LOCALES = ("zh_CN",)
KEYWORDS = {"_": None, "N_": None, "tr": None, "pgettext": ((1, "c"), 2), "ngettext": (1, 2)}


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "gridgis.po"


def mo_path(locale: str) -> Path:
    return po_path(locale).with_suffix(".mo")


def code_messages() -> dict[tuple[str | None, str | tuple[str, str]], list[tuple[str, int]]]:
    """``{(context, id): [(file, line) …]}`` of every message id in the package's code.

    Read with :mod:`ast` (calls inside f-strings included). ``_(name)`` of a variable translates
    an id marked with ``N_()``; any other call whose id is not a literal is an error, since its
    text could never be in the catalogue.
    """
    found: dict = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), rel)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in KEYWORDS):
                continue
            n_args = {"pgettext": 2, "ngettext": 2}.get(node.func.id, 1)
            args = node.args[:n_args]
            literal = len(args) == n_args and all(
                isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args)
            lookup = bool(args) and isinstance(args[0], (ast.Name, ast.Subscript, ast.Attribute))
            if not literal and (node.func.id == "_" or (node.func.id == "tr" and lookup)):
                continue  # translates an id marked with N_() where it was written
            if not literal:
                raise ValueError(f"{rel}:{node.lineno}: {node.func.id}() needs literal text")
            values = [a.value for a in args]
            if node.func.id == "pgettext":
                key = (values[0], values[1])
            elif node.func.id == "ngettext":
                key = (None, (values[0], values[1]))
            else:
                key = (None, values[0])
            found.setdefault(key, []).append((rel, node.lineno))
    return found


def cli_messages() -> dict[tuple[None, str], list[tuple[str, int]]]:
    """The help texts of the CLI (commands and options), as shown by ``--help``."""
    sys.path.insert(0, str(ROOT))
    from gridgis.cli import help_texts

    return {(None, text): [("gridgis/cli", 0)] for text in help_texts()}


def template_messages() -> dict[tuple[None, str], list[tuple[str, int]]]:
    """Texts of the page templates: ``{%t …%}`` and ``{%js …%}`` (see render._common.template)."""
    import re

    found: dict = {}
    for path in sorted((PACKAGE / "render" / "templates").iterdir()):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"\{%(?:t|js) (.*?)%\}", text, re.S):
            line = text.count("\n", 0, m.start()) + 1
            found.setdefault((None, m.group(1)), []).append((str(path.relative_to(ROOT)), line))
    return found


def all_messages() -> dict:
    return {**code_messages(), **template_messages(), **cli_messages()}


def read_catalogue(locale: str) -> Catalog:
    with po_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale, domain="gridgis")


def update() -> None:
    messages = all_messages()
    for locale in LOCALES:
        path = po_path(locale)
        old = read_catalogue(locale) if path.exists() else Catalog(locale=locale, domain="gridgis")
        new = Catalog(locale=locale, domain="gridgis", project="gridgis",
                      copyright_holder="gridgis", charset="utf-8")
        for (context, msgid), locations in sorted(messages.items(), key=lambda kv: str(kv[0])):
            before = old.get(msgid, context=context)
            new.add(msgid, before.string if before else ("", "") if isinstance(msgid, tuple) else "",
                    locations=sorted(set(locations)), context=context,
                    flags=("python-brace-format",) if "{" in str(msgid) else ())
        new.fuzzy = False
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, new, width=100, sort_output=True, omit_header=False, no_location=True)
        print(f"{path.relative_to(ROOT)}: {len(new)} messages")


def compiled(locale: str) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, read_catalogue(locale), use_fuzzy=False)
    return buf.getvalue()


def compile_all() -> None:
    for locale in LOCALES:
        mo_path(locale).write_bytes(compiled(locale))
        print(f"{mo_path(locale).relative_to(ROOT)} written")


def untranslated(locale: str) -> list[str]:
    cat = read_catalogue(locale)
    out = []
    for (context, msgid) in all_messages():
        entry = cat.get(msgid, context=context)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else (
            (entry.string,) if entry is not None else ("",))
        if entry is None or entry.fuzzy or not all(strings):
            out.append(f"{context + ': ' if context else ''}{msgid}")
    return out


def main(argv: list[str]) -> int:
    verb = argv[0] if argv else "check"
    if verb == "update":
        update()
    elif verb == "compile":
        compile_all()
    elif verb == "check":
        missing = [m for locale in LOCALES for m in untranslated(locale)]
        print("\n".join(missing) or "every message is translated")
        return 1 if missing else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
