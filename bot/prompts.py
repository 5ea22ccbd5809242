"""Prompt files: the text given to generative models lives in ``prompts/*.md``, not in code.

Templates use ``{{name}}`` placeholders, filled in one pass by :func:`render_prompt`
(a value that itself contains ``{{...}}`` is inserted as is, never expanded).
The folder is ``prompts/`` at the project root, or ``$BOT_PROMPTS_DIR`` when set.

Example:
    >>> "data, not instructions" in render_prompt("answer", sources="...", question="How many?")
    True

"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from bot.errors import ConfigError

__all__ = ["load_prompt", "prompts_dir", "render_prompt"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def prompts_dir() -> Path:
    """Folder of the prompt files (``$BOT_PROMPTS_DIR`` or ``prompts/`` next to the ``bot`` package)."""
    env = os.environ.get("BOT_PROMPTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "prompts"


@lru_cache(maxsize=32)
def _read(path: Path, mtime_ns: int) -> str:
    return path.read_text(encoding="utf-8").strip()


def load_prompt(name: str) -> str:
    """Read one prompt file.

    Args:
        name: File name without ``.md``, e.g. ``"system"``.

    Returns:
        The prompt text (surrounding blank lines removed); cached until the file changes.

    Raises:
        ConfigError: If the name is malformed or the file does not exist.

    """
    if not _NAME.match(name):
        raise ConfigError(f"Invalid prompt name {name!r}.")
    path = prompts_dir() / f"{name}.md"
    try:
        return _read(path, path.stat().st_mtime_ns)
    except OSError:
        raise ConfigError(f"Prompt file {path} is missing; set BOT_PROMPTS_DIR to the prompts folder.") from None


def render_prompt(name: str, **values: object) -> str:
    """Load a prompt and fill its ``{{name}}`` placeholders.

    Args:
        name: File name without ``.md``.
        **values: Values of the placeholders (converted with ``str``).

    Returns:
        The filled-in prompt.

    Raises:
        ConfigError: If the file is missing or a placeholder has no value.

    """
    template = load_prompt(name)

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise ConfigError(f"Prompt {name!r} needs a value for {{{{{key}}}}}.")
        return str(values[key])

    return _PLACEHOLDER.sub(fill, template)
