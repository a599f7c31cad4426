"""A counted progress bar (rich) over a known number of items, naming the item at work, with elapsed time and ETA."""

from __future__ import annotations


class CountedProgress:
    """A bar headed ``label`` over ``total`` items; ``show`` names the item at work, ``advance`` counts one done,
    ``stop`` ends it. ``shown=False`` keeps it quiet; ``terminal_only`` also keeps it quiet when stderr is not a
    terminal."""

    def __init__(self, label: str, total: int, shown: bool = True, terminal_only: bool = False) -> None:
        import sys

        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        quiet = not shown or (terminal_only and not sys.stderr.isatty())
        self._progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                  TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[item]}"),
                                  disable=quiet)
        self._task = self._progress.add_task(label, total=total, item="")
        self._progress.start()

    def show(self, item: str) -> None:
        """Name the item at work."""
        self._progress.update(self._task, item=item)

    def advance(self) -> None:
        """Count one item done."""
        self._progress.update(self._task, advance=1)

    def stop(self) -> None:
        """End the bar."""
        self._progress.stop()
