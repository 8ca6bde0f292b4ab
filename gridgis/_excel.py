"""Excel files people open: codes as text, columns wide enough, the header row frozen.

A 15-digit grid code written as a number shows as ``4.30302E+14`` in Excel and loses its last
digits; here every column of digit strings (codes, ids) is written as text cells with the text
number format ``@``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

__all__ = ["code_like", "display_width", "write_excel"]

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


def write_excel(df: pd.DataFrame, path: str | Path, *, sheet_name: str = "Sheet1") -> None:
    """Write ``df`` as one sheet: codes as text, sensible widths, the header row frozen.

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
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        df.to_excel(writer, index=False, sheet_name=sheet_name)
        ws = writer.sheets[sheet_name]
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
