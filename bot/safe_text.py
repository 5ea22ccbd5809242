"""Control characters and escape sequences: kept out of answers, out of the terminal, out of file names.

A document may hold terminal escape sequences (``ESC [31m``, ``ESC ]0;title BEL``) and other control
characters. :func:`mask_controls` replaces each of them with spaces *of the same length*, so that no
sequence becomes a number or a name while every offset still indexes the file's own decoded text.
:func:`terminal_safe` is the last line of defence before the CLI prints text; :func:`name_problem` and
:func:`shown_name` deal with file names that are not valid UTF-8 or hold control characters.
"""

from __future__ import annotations

import re
import unicodedata

_KEPT = frozenset("\t\n\r\f\v")
"""Control characters that are ordinary whitespace in a text file."""

_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI: colours, cursor moves ("ESC [31m")
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # the same, 8-bit form
    r"|\x1b[\]P^_X][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"  # OSC / DCS / PM / APC strings (a title, ...)
    r"|[\x9d\x90\x9e\x9f][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"  # 8-bit OSC / DCS / PM / APC strings
    r"|\x1b[ -/]*[0-~]?"  # any other escape ("ESC c", "ESC ( B")
)
"""Terminal escape sequences, including the text an OSC string carries (a window title is not content)."""


def is_control(ch: str) -> bool:
    """Whether a character is a control character other than ordinary whitespace (tab, newlines)."""
    return ch not in _KEPT and unicodedata.category(ch) == "Cc"


def mask_controls(text: str) -> str:
    r"""Replace escape sequences and control characters with as many spaces (offsets stay exact).

    Example:
        >>> mask_controls("has \x1b[31m9\x1b[0m staff")
        'has      9     staff'

    """
    if not any(is_control(ch) for ch in text):
        return text
    text = _SEQUENCES.sub(lambda m: " " * len(m.group(0)), text)
    return "".join(" " if is_control(ch) else ch for ch in text)


def terminal_safe(text: str, one_line: bool = False) -> str:
    """Text fit to print on a terminal: no control character (newlines and tabs kept unless ``one_line``)."""
    text = mask_controls(text)
    text = "".join(" " if ch in "\r\f\v" else ch for ch in text)
    return " ".join(text.split()) if one_line else text


def shown_name(name: str) -> str:
    r"""A file name as it can be shown: undecodable bytes as ``\xff``, control characters escaped (``\n``).

    Example:
        >>> shown_name("bad\udcff\n.txt")
        'bad\\xff\\n.txt'

    """
    raw = name.encode("utf-8", "surrogateescape")
    decoded = raw.decode("utf-8", "backslashreplace")
    return "".join(ch.encode("unicode_escape").decode("ascii") if _odd(ch) else ch for ch in decoded)


def _odd(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs")


def name_problem(name: str) -> str | None:
    """Why a file's name (its path inside the docs folder) cannot be indexed, or None when it can.

    A name that is not valid UTF-8 cannot be stored in the index; one with a control character (a
    newline, an escape) would break every line that shows it.
    """
    if any(unicodedata.category(ch) == "Cs" for ch in name):
        return "its name is not valid UTF-8; rename it"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "its name contains a control character (such as a newline); rename it"
    return None
