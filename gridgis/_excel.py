"""Excel files people open: codes as text, columns wide enough, the header row frozen.

A 15-digit grid code written as a number shows as ``4.30302E+14`` in Excel and loses its last
digits; here every column of digit strings (codes, ids) is written as text cells with the text
number format ``@``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .i18n import pgettext

__all__ = ["code_like", "display_width", "sheet_title", "write_excel", "write_sheets"]

_DIGITS = re.compile(r"^[0-9]+$")
_MAX_WIDTH = 60


def code_like(values: pd.Series) -> bool:
    """Whether a column holds codes: text of digits only (at least one value, none else).

    Examples
    --------
    >>> code_like(pd.Series(["430302001001001", None])), code_like(pd.Series([1, 2]))
    (True, False)
    """
    if values.dtype.kind in "biufc":
        return False
    present = [v for v in values.dropna().tolist() if v != ""]
    return bool(present) and all(isinstance(v, str) and _DIGITS.match(v) for v in present)


def display_width(text: object) -> int:
    """Width of ``text`` in Excel columns (CJK and full-width characters count twice).

    Examples
    --------
    >>> display_width("网格编码"), display_width("abc")
    (8, 3)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def write_excel(df: pd.DataFrame, path: str | Path, *, sheet_name: str | None = None) -> None:
    """Write ``df`` as one sheet: codes as text, sensible widths, the header row frozen.

    The sheet is named ``sheet_name`` (default: "Table" in the language in use).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.xlsx"
    >>> write_excel(pd.DataFrame({"网格编码": ["430302001001001"]}), p)
    >>> import openpyxl
    >>> cell = openpyxl.load_workbook(p).active["A2"]
    >>> cell.value, cell.data_type, cell.number_format
    ('430302001001001', 's', '@')
    """
    write_sheets({pgettext("sheet", "Table") if sheet_name is None else sheet_name: df}, path)


def sheet_title(name: str) -> str:
    """``name`` as an Excel sheet name: at most 31 characters, none of ``[]:*?/\\``.

    Examples
    --------
    >>> sheet_title("2026/10: 各街道")
    '2026-10- 各街道'
    """
    return re.sub(r"[\[\]:*?/\\]", "-", str(name))[:31] or "Sheet1"


def write_sheets(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> None:
    """Write each table of ``sheets`` (sheet name → table) as a sheet formatted as
    :func:`write_excel` does: codes as text, sensible widths, the header row bold and frozen.

    Write to a temporary path and rename (:func:`gridgis.writing.replacing`) for a safe output.

    Examples
    --------
    >>> import tempfile, openpyxl
    >>> p = Path(tempfile.mkdtemp()) / "t.xlsx"
    >>> write_sheets({"汇总": pd.DataFrame({"项目": ["事件数"]}),
    ...               "各街道": pd.DataFrame({"编码": ["430302001"], "事件数": [3]})}, p)
    >>> book = openpyxl.load_workbook(p)
    >>> book.sheetnames, book["各街道"].freeze_panes, book["各街道"]["A2"].data_type
    (['汇总', '各街道'], 'A2', 's')
    """
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, df in sheets.items():
            title = sheet_title(name)
            df.to_excel(writer, index=False, sheet_name=title)
            _format_sheet(writer.sheets[title], df)


def _format_sheet(ws: Any, df: pd.DataFrame) -> None:
    """Bold frozen header, codes as text cells, each column as wide as its longest text."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "A2"
    for j, column in enumerate(df.columns, start=1):
        letter = get_column_letter(j)
        ws[f"{letter}1"].font = Font(bold=True)
        values = df[column]
        if code_like(values):
            for row in range(2, len(df) + 2):
                ws[f"{letter}{row}"].number_format = "@"
        sample = values.head(500).tolist()
        width = max([display_width(column), *(display_width(v) for v in sample if v is not None)])
        ws.column_dimensions[letter].width = min(width + 2, _MAX_WIDTH)
