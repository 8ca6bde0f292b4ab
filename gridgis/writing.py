"""Writing outputs safely: output paths are checked before any work, files replace atomically.

Two guarantees that grid offices rely on:

* **an output never destroys an input** — :func:`check_output` refuses a target that is one of
  the inputs (the same file under any name, hard links included), a folder where a file is
  expected (and the reverse), a name longer than the file system allows, and a folder that
  cannot be created or written. Verbs call it *before* the long work starts;
* **a kill at any moment leaves the old file or the new one** — :func:`replacing` hands out a
  temporary path beside the target and renames it into place only when the write completed
  (``os.replace`` is atomic on one file system). With ``keep=True`` the temporary file starts as
  a copy of the existing target, so that layers can be added to a GeoPackage without a window in
  which the file is half-written.

Examples
--------
>>> from pathlib import Path
>>> import tempfile
>>> target = Path(tempfile.mkdtemp()) / "out.txt"
>>> with replacing(target) as tmp:
...     _ = tmp.write_text("complete")
>>> target.read_text()
'complete'
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import OutputError
from .i18n import _, tr

__all__ = ["check_output", "replacing", "same_file", "save_figure", "write_text"]

#: SQLite (GeoPackage) side files that may sit beside a temporary file after a failed write.
_SIDE_SUFFIXES = ("-journal", "-wal", "-shm")
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _existing_ancestor(path: Path) -> Path:
    for parent in [path, *path.parents]:
        if parent.exists():
            return parent
    return Path(path.anchor or ".")


def _members(path: Path) -> list[Path]:
    """The files that make up a dataset (a shapefile is several files)."""
    if path.suffix.lower() == ".shp":
        return [path.with_suffix(s) for s in _SHAPEFILE_PARTS]
    return [path]


def same_file(a: Any, b: Any) -> bool:
    """True when two paths name the same file or folder (symbolic and hard links included).

    >>> same_file("data/x.csv", "data/../data/x.csv")
    True
    """
    pa, pb = Path(str(a)), Path(str(b))
    for x in _members(pa):
        for y in _members(pb):
            if os.path.realpath(x) == os.path.realpath(y):
                return True
            with contextlib.suppress(OSError):
                if x.exists() and y.exists() and os.path.samefile(x, y):
                    return True
    return False


def check_output(
    path: str | Path,
    *,
    inputs: Iterable[Any] = (),
    folder: bool = False,
    option: str = "--out",
) -> Path:
    """Check an output path before any work is done, and return it.

    Parameters
    ----------
    path
        The file (or, with ``folder=True``, the folder) the caller will write.
    inputs
        Every input of the operation (paths; URLs and in-memory objects are ignored). An output
        that is one of them is refused: gridgis never overwrites what it reads.
    folder
        The output is a folder of files (heatmap, report) rather than one file.
    option
        How the user named this output (``--out`` on the CLI, ``out=`` in Python), for the fix.

    Raises
    ------
    OutputError
        When the output is an input, the wrong kind of path, too long a name, or not writable.

    Examples
    --------
    >>> check_output("result.csv", inputs=["input.csv"]).name
    'result.csv'
    """
    target = Path(path)
    limit = _name_max(_existing_ancestor(target.parent))
    for part in target.parts:
        if len(os.fsencode(part)) > limit:
            raise OutputError(
                tr("file name is {n_fsencode} bytes long; the file system allows {limit}",
                   n_fsencode=len(os.fsencode(part)), limit=limit),
                source=target, fix=tr("give {option} a shorter name", option=option),
            )
    for src in inputs:
        if src is None or not isinstance(src, str | os.PathLike) or "://" in str(src):
            continue
        if same_file(target, src):
            raise OutputError(
                _("the output is one of the inputs and would overwrite it"), source=target,
                fix=tr("give {option} a new file name (inputs are never overwritten)",
                       option=option),
            )
    if folder and target.exists() and not target.is_dir():
        raise OutputError(_("exists and is a file, but a folder is expected here"), source=target,
                          fix=tr("give {option} a folder (new or existing)", option=option))
    if not folder and target.is_dir():
        raise OutputError(_("is a folder, but a file is expected here"), source=target,
                          fix=tr("give {option} a file name inside that folder", option=option))
    base = _existing_ancestor(target.parent if not folder else target)
    if not base.is_dir():
        raise OutputError(tr("cannot create a folder under {base}: it is a file", base=base), source=target,
                          fix=tr("give {option} a path in an existing folder", option=option))
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputError(tr("no permission to write in {base}", base=base), source=target,
                          fix=tr("give {option} a path in a folder you may write to",
                                 option=option))
    return target


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _discard(tmp: Path) -> None:
    for p in [*_members(tmp), *(Path(f"{tmp}{s}") for s in _SIDE_SUFFIXES)]:
        with contextlib.suppress(OSError):
            p.unlink()


@contextlib.contextmanager
def replacing(target: str | Path, *, keep: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` when the block succeeds.

    The temporary name keeps the target's suffix (writers choose their format by it) and is short,
    so it fits where the target fits. On an exception the temporary file is removed and the target
    is left as it was. A shapefile's parts are renamed one by one.

    Parameters
    ----------
    target
        The final path.
    keep
        Start from a copy of the existing target (to add layers to a GeoPackage).

    Raises
    ------
    OutputError
        When the folder cannot be created or the file cannot be renamed into place.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "plan.gpkg"
    >>> with replacing(target) as tmp:
    ...     tmp.name.endswith(".gpkg"), tmp.parent == target.parent
    (True, True)
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(tr("cannot create the folder ({strerror})", strerror=exc.strerror), source=target.parent) from None
    tmp = target.with_name(f".{uuid.uuid4().hex[:12]}.part{target.suffix}")
    try:
        if keep and target.exists():
            for src, dst in zip(_members(target), _members(tmp), strict=True):
                if src.exists():
                    shutil.copy2(src, dst)
        yield tmp
        for src, dst in zip(_members(tmp), _members(target), strict=True):
            if src.exists():
                _fsync(src)
                os.replace(src, dst)
        _fsync(target.parent)
    except OSError as exc:
        _discard(tmp)
        raise OutputError(tr("cannot write ({v})", v=exc.strerror or exc), source=target) from None
    except BaseException:
        _discard(tmp)
        raise


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write a text file (HTML, JSON, CSV text) atomically and return its path.

    >>> import tempfile
    >>> write_text(Path(tempfile.mkdtemp()) / "a.json", "{}").read_text()
    '{}'
    """
    path = Path(path)
    with replacing(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return path


def save_figure(fig: Any, path: str | Path, **kwargs: Any) -> Path:
    """``fig.savefig`` atomically (the format follows the suffix: PNG, SVG, PDF …)."""
    path = Path(path)
    with replacing(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower() or None, **kwargs)
    return path
