"""Typos in a question, corrected against the index's own vocabulary (never a general word list).

A word the index never uses and the English lexicon does not know ("investmnt", "wich") is replaced by
an index word one edit away, found through a symmetric-delete table built once per index version, so
the cost per question is a few dictionary lookups per word.
"""

from __future__ import annotations

import re

from bot.engine.index import IndexView
from bot.language.quantities import CURRENCY_WORDS
from bot.language.tokens import STOPWORDS, key, lemma

_WORD = re.compile(r"[A-Za-z]{3,}")
FUNCTION_WORDS = frozenset("per via vs versus amid amidst despite unlike whereas thus hence".split())
"""Short words of the language itself, which no lexicon of content words lists and no document may use."""


def correct(text: str, index: IndexView) -> str:
    """The question with unknown words replaced by their likely intended index word."""

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        if low in CURRENCY_WORDS or low in FUNCTION_WORDS:
            return word  # "USD" is a currency, not a typo of "us"
        if low in STOPWORDS or lemma(low) != low or _known(low) or index.idf(key(low)) > 0:
            return word  # an English word, or a form of a word the documents use ("Americans")
        nxt = _WORD.match(m.string, m.end() + 1) if m.string[m.end() : m.end() + 1] in (" ", "-") else None
        if nxt and index.idf(key(f"{low}-{nxt.group(0).lower()}")) > 0:
            return word  # "trans Baltic": half of the documents' "Trans-Baltic", not a typo of "trains"
        better = index.correction(low)
        if not better:
            return word
        return better.capitalize() if word[0].isupper() else better

    return _WORD.sub(fix, text)


def _known(word: str) -> bool:
    from bot.language.tokens import _lookup

    return bool(_lookup(word)[1])
