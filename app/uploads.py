"""Uploaded files: size-limited, never executed, and read through the same cosim functions (and so the same
checks and messages) as the command line's input files. Binary uploads are written to a private temporary folder
under their own base name for cosim to read."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from cosim.errors import CosimInputError

MB = 1 << 20
CONFIG_LIMIT = 1 * MB  # a YAML sweep config or calibration overlay
UPLOAD_DIR = Path(tempfile.gettempdir()) / "cosim-app-uploads"
TABLE_LIMIT = 64 * MB  # a Parquet results or measurement table (`cosim app` sets Streamlit's own limit to this)


def content(upload: Any, limit: int) -> bytes:
    """The bytes of an ``st.file_uploader`` file, refused with a clear message beyond ``limit`` bytes."""
    size = getattr(upload, "size", None)
    data = upload.getvalue()
    size = len(data) if size is None else size
    if size > limit or len(data) > limit:
        raise CosimInputError(f"the file is {size / MB:.1f} MB; the limit is {limit / MB:.0f} MB", upload.name)
    return data


def text(upload: Any, limit: int = CONFIG_LIMIT) -> str:
    """An uploaded text file (UTF-8), size-limited."""
    try:
        return content(upload, limit).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CosimInputError(f"not a UTF-8 text file (byte {exc.start})", upload.name) from None


def config(upload: Any):
    """An uploaded sweep config, parsed with the safe YAML loader and validated as ``cosim sweep`` does; it may not
    name files on this machine to read (calibration overlays)."""
    from cosim.api import parse_config

    return parse_config(text(upload), upload.name, files=False)


def saved(upload: Any, limit: int, name: str | None = None) -> Path:
    """An uploaded file written to a temporary folder named by its content's hash (as ``name``, else its own base
    name) for cosim to read; nothing in it is run."""
    data = content(upload, limit)
    folder = UPLOAD_DIR / hashlib.sha1(data).hexdigest()[:16]  # the same content: the same path (cache hits)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or Path(upload.name).name or "upload")
    if not path.is_file():
        path.write_bytes(data)
    return path
