"""Word statistics of an index (document frequencies and word counts), kept in a file beside it.

Counting means tokenizing every chunk, which costs about 2 ms a chunk: once per index version in a
long-running process, but in every one-shot ``bot ask`` it would grow with the corpus. So the counts
are written once to ``wordstats-<collection>.json`` in the index folder, tagged with the store's fingerprint (it
changes on every write) and a hash of the tokenizer's source (a changed tokenizer counts other keys),
and read back while both still match. A missing, stale, damaged or unwritable file only means
counting again; it is never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from bot.atomic import write_text
from bot.language.tokens import tokenize

log = logging.getLogger(__name__)


def file_for(index_dir: Path, collection: str) -> Path:
    """The statistics file of one collection (collections may share an index folder)."""
    tag = hashlib.sha256(collection.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return index_dir / f"wordstats-{tag}.json"


@dataclass
class WordStats:
    """Per index version: in how many chunks each word key occurs, and how often each word is used."""

    df: Counter[str] = field(default_factory=Counter)
    words: Counter[str] = field(default_factory=Counter)
    n_chunks: int = 0


@cache
def tokenizer_tag() -> str:
    """A hash of the code that turns text into keys (``bot.language.tokens`` and the stemmer it uses)."""
    import bot.hybrid
    import bot.language.tokens

    h = hashlib.sha256()
    for module in (bot.language.tokens, bot.hybrid):
        h.update(Path(str(module.__file__)).read_bytes())
    return h.hexdigest()[:16]


def count(texts: list[str]) -> WordStats:
    """Count the word keys (words and numbers) per chunk and the alphabetic words of some chunk texts."""
    stats = WordStats(n_chunks=len(texts))
    for text in texts:
        tokens = tokenize(text)
        stats.df.update({t.key for t in tokens if t.kind in ("word", "num")})
        stats.words.update(t.low for t in tokens if t.kind == "word" and t.low.isalpha())
    return stats


def load(path: Path | None, fingerprint: str) -> WordStats | None:
    """The statistics saved for this index version and tokenizer, or None (absent, stale or unreadable)."""
    if path is None or not fingerprint:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("fingerprint") != fingerprint or data.get("tokenizer") != tokenizer_tag():
            return None
        return WordStats(Counter(data["df"]), Counter(data["words"]), int(data["n_chunks"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        log.info("word statistics in %s unreadable (%s); counting again", path, e)
        return None


def save(path: Path | None, fingerprint: str, stats: WordStats) -> None:
    """Write the statistics for this index version (atomically; a failure to write is only logged)."""
    if path is None or not fingerprint or not path.parent.is_dir():
        return
    data = {
        "fingerprint": fingerprint,
        "tokenizer": tokenizer_tag(),
        "n_chunks": stats.n_chunks,
        "df": stats.df,
        "words": stats.words,
    }
    try:
        write_text(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    except OSError as e:
        log.info("word statistics not saved to %s (%s)", path, e)
