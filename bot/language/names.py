"""Names in a sentence: runs of capitalised words (``Harmony Intelligent Mobility Alliance``, ``Mr. Law``).

No model: a name is a run of capitalised tokens, joined through ``of``/``de``/``&`` when a capitalised
word follows. A capitalised word that opens a sentence counts only when the lexicon does not know it
as an ordinary word (``Industry sources say`` is not a name; ``Seres should`` is) or when another
capitalised word follows it. Months and weekdays are dates, not names.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.language.quantities import NUMBER_WORDS
from bot.language.tokens import AUXILIARIES, MONTHS, STOPWORDS, TITLES, WEEKDAYS, Token

_JOINERS = frozenset({"of", "de", "del", "der", "van", "von", "la", "le", "du", "da", "&", "al", "bin", "y"})
_OPENERS = frozenset({'"', "“", "‘", "'", "(", "[", ":", "—", "–", "-"})
_NOT_NAMES = frozenset(MONTHS) | WEEKDAYS | {"i"}
_NUMBER_WORDS = NUMBER_WORDS | {"thousand", "million", "billion"}
_ORG_WORDS = frozenset(
    "observatory center centre institute committee council foundation association society commission office "
    "department agency fund alliance coalition network union league bureau board ministry school college "
    "university academy campaign party federation organization organisation secretary movement front".split()
)
"""Words after which "for" stays inside a name ("Institute for Marine Research", "Fund for Peace")."""
INTERJECTIONS = _INTERJECTIONS = frozenset("oh ah yes no well hello howdy hey alas okay ok dear".split())


@dataclass(frozen=True, slots=True)
class Name:
    """A name found in a token list: tokens ``i`` to ``j`` (exclusive)."""

    i: int
    j: int
    text: str
    start: int
    end: int

    @property
    def keys(self) -> list[str]:
        """Lower-case words of the name, without titles and joiners."""
        return [w.lower().rstrip(".") for w in self.text.split() if w.lower().rstrip(".") not in TITLES | _JOINERS]


_ROMAN = frozenset({"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"})


def _verb_next(tokens: list[Token], k: int) -> bool:
    """Whether the token at ``k`` is a verb or an auxiliary ("... Paris I love"): "I" is then a pronoun."""
    if k >= len(tokens):
        return False
    t = tokens[k]
    return t.low in AUXILIARIES or t.low in ("'m", "’m", "'ve", "’ve", "'d", "’d", "'ll", "’ll") or "VERB" in t.pos


def _capital(tok: Token) -> bool:
    return tok.kind == "word" and tok.text[:1].isupper() and tok.low.rstrip(".") not in _NOT_NAMES


def _ordinary(tok: Token) -> bool:
    """Whether a capitalised word is an ordinary word (known to the lexicon or a function word)."""
    return tok.low in STOPWORDS or bool(tok.pos)


def _opens(tokens: list[Token], i: int) -> bool:
    """Whether token ``i`` opens a sentence or a quotation."""
    return i == 0 or tokens[i - 1].text in _OPENERS or tokens[i - 1].text in {".", "!", "?"}


def find_names(tokens: list[Token], text: str = "", offset: int = 0) -> list[Name]:
    """Find the names among tokens.

    Args:
        tokens: Tokens of one sentence (or question).
        text: The text the tokens address, to copy the name as written (falls back to joining tokens).
        offset: Offset of ``text`` in the tokens' coordinates.

    Returns:
        Names in order of appearance.

    """
    names: list[Name] = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        if not _capital(tok) or tok.text.startswith(("'", "’")):
            i += 1
            continue
        j = i + 1
        while j < n:
            nxt = tokens[j]
            if _capital(nxt) and nxt.start - tokens[j - 1].end <= 1:
                j += 1
            elif nxt.text in _ROMAN and nxt.start - tokens[j - 1].end <= 1 and not _verb_next(tokens, j + 1):
                j += 1  # "World War I", "Henry V"
            elif nxt.low == "for" and tokens[j - 1].low in _ORG_WORDS and j + 1 < n and _capital(tokens[j + 1]):
                j += 2  # "Coastal Observatory for Marine Safety"
            elif nxt.kind == "word" and nxt.text.startswith(("'", "’")) and nxt.low not in ("'s",):
                j += 1  # O'Brien
            elif (nxt.low in _JOINERS and j + 1 < n and _capital(tokens[j + 1]) and not _ordinary(tokens[j + 1])) or (
                nxt.low in _JOINERS and j + 1 < n and _capital(tokens[j + 1]) and tok.low not in STOPWORDS
            ):
                j += 2
            else:
                break
        first = i
        # A sentence-opening ordinary word is not part of the name ("The Rangers", "Industry sources").
        while first < j and _opens(tokens, i) and first == i and _ordinary(tokens[first]) and j - first >= 1:
            if j - first == 1 or tokens[first].low in STOPWORDS:
                first += 1
            else:
                break
        # Drop joiners left at either end ("Both of Huawei" -> "Huawei") and a lone title or number word.
        while first < j and tokens[first].low in _JOINERS:
            first += 1
        last = j
        while last > first and tokens[last - 1].low in _JOINERS:
            last -= 1
        low = tokens[first].low.rstrip(".") if last > first else ""
        single = last - first == 1 and (
            low in TITLES | STOPWORDS | _INTERJECTIONS or all(p in _NUMBER_WORDS for p in low.split("-"))
        )
        if last > first and not single:
            start, end = tokens[first].start, tokens[last - 1].end
            raw = text[start - offset : end - offset] if text else " ".join(t.text for t in tokens[first:last])
            names.append(Name(first, last, raw, start, end))
        i = j
    return names


def name_keys(names: list[Name]) -> set[str]:
    """All lower-case words of some names."""
    return {k for nm in names for k in nm.keys}
