"""Table files a command writes (``.csv`` or ``.md``), and generated text kept inside a marked block of a markdown
file (``<!-- TAG:start -->`` ... ``<!-- TAG:end -->``), so a command can refresh its table in the README without
touching the prose around it."""

from __future__ import annotations

from pathlib import Path

from cosim.errors import CosimInputError

OUTPUT_FORMATS = (".csv", ".md")


def markers(tag: str) -> tuple[str, str]:
    """The start and end comments of block ``tag``."""
    return f"<!-- {tag}:start -->", f"<!-- {tag}:end -->"


def write_markdown(path: Path, text: str, tag: str) -> None:
    """Write ``text`` to ``path``; when the file already holds block ``tag``, only that block's body is replaced."""
    start, end = markers(tag)
    old = path.read_text() if path.exists() else ""
    if start in old and end in old:
        head, rest = old.split(start, 1)
        text = f"{head}{start}\n{text}{end}{rest.split(end, 1)[1]}"
    path.write_text(text)


def output_path(name: str) -> Path:
    """``name`` as a table file path, checked to be ``.csv`` or ``.md``."""
    path = Path(name)
    if path.suffix not in OUTPUT_FORMATS:
        raise CosimInputError(f"--output {path}: unknown table format {path.suffix!r}; allowed: .csv, .md")
    return path
