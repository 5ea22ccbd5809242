"""Shared plumbing of the ``bot`` commands: error messages, settings, the progress bar, opening the bot.

Every command turns :class:`bot.errors.BotError` into a one-line message and an exit code
(:func:`handle_errors`), reads its settings with :func:`settings_from` and opens the bot with
:func:`open_bot`, which builds or updates the index first. Heavy libraries are imported inside the
functions so ``bot --help`` stays instant. The commands themselves are in :mod:`bot.cli`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from bot.service import Bot
    from bot.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def echo_err(message: str) -> None:
    """Print a one-line message on stderr (never wrapped, no markup)."""
    from rich.console import Console

    # soft_wrap: a message is one line however narrow the terminal (or 80 columns when piped)
    Console(stderr=True, highlight=False, soft_wrap=True).print(message, markup=False)


def handle_errors(fn: F) -> F:
    """Turn BotError into a clean one-line message and exit code (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from bot.errors import BotError

        try:
            return fn(*args, **kwargs)
        except BotError as exc:
            echo_err(f"Error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            echo_err("Interrupted; the index stays usable (re-run to finish).")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def settings_from(docs: Path | None = None, index: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment with the command's flags on top."""
    from bot.settings import load_settings

    return load_settings(docs_dir=docs, index_dir=index, **overrides)


@contextmanager
def rich_progress(quiet: bool = False) -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress callback drawing a rich progress bar on stderr."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = None

        def update(done: int, total: int, desc: str) -> None:
            nonlocal task
            if task is None:
                if total == 0:
                    return
                task = bar.add_task(desc, total=total)
            bar.update(task, completed=done, total=total, description=desc)

        yield update


def open_bot(settings: Settings, quiet: bool = False, summary: bool = True, indexing: bool = False) -> Bot:
    """Build or update the index and return the bot over it.

    Args:
        settings: Where the documents and the index are.
        quiet: No progress bar, and the summary only when something changed.
        summary: Print the one-line index summary on stderr.
        indexing: The command is about indexing (``bot index``): every skipped file is listed, and
            notes about the index are shown; other commands only warn about files skipped for a new
            reason since the last run.
    """
    from bot.embed import MiniLMEncoder
    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.store import Store

    # The bar is drawn only on a terminal: piped, rich would print its final frame as an extra line.
    with rich_progress(quiet or not sys.stderr.isatty()) as progress:
        store = Store.open(settings)
        embeddings = MiniLMEncoder.from_settings(settings)
        report = sync_index(
            settings,
            store=store,
            embedder=embeddings,
            progress=progress,
            warn=lambda m: echo_err(f"Warning: {m}"),
            repeat_warnings=indexing,
        )
        bot = Bot(settings, store, embeddings)
        bot.last_report = report
    if indexing:
        for note in report.notes:
            echo_err(f"Note: {note}")
    if summary and report and (report.indexed or report.removed or not quiet):
        echo_err(f"Index: {report.summary()}")
    return bot
