"""Words of a text: tokens with exact offsets, lemmas and the parts of speech a word can take.

Lemmas and parts of speech come from ``lemminflect``'s English lexicon (a dictionary lookup, no
model): ``delivered`` -> ``deliver`` (VERB), ``cars`` -> ``car`` (NOUN). A word the lexicon does not
know (most names: ``Yinwang``, ``Lundqvist``) keeps its lower-cased form and no part of speech.
A light suffix stem on top of the lemma (:func:`key`) lets ``deliveries`` meet ``delivered``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.hybrid import stem

_STOPWORD_TEXT = """
a an the and or but nor if then else of to in on at by for with from as into onto upon about above below
over under between among through during before after since until till against without within along across
behind beyond toward towards off out up down than so such too very just only also even still yet already
is am are was were be been being do does did done doing has have had having will would shall should can
could may might must ought it its itself this that these those there here their theirs them they he him his
himself she her hers herself we us our ours you your yours i me my mine myself who whom whose what which
when where why how whether all any both each either neither every some no not nor other another same own
more most much many few less least several lot lots one ones s t 're 've 'll 'd 's 't n't
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
WH_WORDS = frozenset("who whom whose what which when where why how".split())
AUXILIARIES = frozenset(
    "is am are was were be been being do does did has have had will would shall should can could may might must".split()
)
NEGATIONS = frozenset({"not", "no", "never", "n't", "'t", "nobody", "nothing", "none", "neither", "nor", "without"})
MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
TITLES = frozenset("mr mrs ms dr prof sen rep gov gen lt col capt sgt st jr sr mt ft".split())

_TOKEN_RE = re.compile(
    r"""
    (?P<abbr>(?:[A-Za-z]\.){2,})                              # U.S.  I.S.S.  P.M.
  | (?P<num>\d+(?:[,.:]\d+)*(?:st|nd|rd|th|s)?(?![.,:]\d|\w))  # 81,864  5.68  8:05  3rd  1990s
  | (?P<glued>[a-z]{3,}(?=\d+(?:[.,]\d+)?(?:\s|$)))           # "eggs1 pound": a word glued to the next line's number
  | (?P<alnum>\d+(?:[.,]\d+)*[A-Za-z][\w-]*|[A-Za-z]+\d[\w-]*|[A-Z]+-\d[\w-]*)  # 1.6bn M9 Q3 4G COVID-19 F-35
  | (?P<word>[^\W\d_]+(?:-[^\W\d_][^\W_]*)*\.?)                         # words, hyphenated words, "Mr."
  | (?P<clitic>(?<=[^\W\d_])['’][^\W\d_]+)                      # 's  't  're (glued to a word)
  | (?P<sym>[%$€£¥₩₹])
  | (?P<punct>[^\w\s])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a text: ``text == source[start:end]``."""

    text: str
    start: int
    end: int
    kind: str  # "word", "num", "sym" or "punct"
    low: str
    lemma: str
    pos: frozenset[str]

    @property
    def cap(self) -> bool:
        """Whether the token starts with a capital letter."""
        return self.kind == "word" and self.text[:1].isupper()

    @property
    def stop(self) -> bool:
        """Whether the token is a function word."""
        return self.low in STOPWORDS

    @property
    def content(self) -> bool:
        """Whether the token carries meaning (a word that is not a function word, or a number)."""
        return (self.kind == "word" and not self.stop and len(self.low) > 1) or self.kind == "num"

    @property
    def key(self) -> str:
        """The matching key: a stem of the lemma (``deliveries`` and ``delivered`` share one)."""
        return _stem_key(self.lemma)

    @property
    def verb(self) -> bool:
        """Whether the lexicon knows the word as a verb only (not also as a noun)."""
        return "VERB" in self.pos and "NOUN" not in self.pos and "ADJ" not in self.pos

    @property
    def noun(self) -> bool:
        """Whether the word can be a noun (or is unknown to the lexicon, as most names are)."""
        return self.kind == "word" and not self.stop and ("NOUN" in self.pos or not self.pos)


@lru_cache(maxsize=65536)
def _lookup(low: str) -> tuple[str, frozenset[str]]:
    from bot.language.lexicon import all_lemmas

    found = all_lemmas(low)
    if not found:
        return low, frozenset()
    for upos in ("VERB", "NOUN", "ADJ", "ADV", "AUX", "PROPN"):
        if upos in found:
            return found[upos][0].lower(), frozenset(found)
    first = next(iter(found.values()))
    return first[0].lower(), frozenset(found)


def lemma(word: str) -> str:
    """The dictionary form of a word, lower case (``bought`` -> ``buy``; unknown words unchanged)."""
    return _lookup(word.lower())[0]


@lru_cache(maxsize=65536)
def _stem_key(lem: str) -> str:
    if not lem.isascii():  # Stéphane = Stephane
        lem = "".join(c for c in unicodedata.normalize("NFKD", lem) if not unicodedata.combining(c))
    return stem(lem) if lem.isalpha() else lem.replace(",", "")


def key(word: str) -> str:
    """A matching key for a word: its lemma, lightly stemmed (``deliveries``/``delivered`` -> ``deliver``)."""
    low = word.lower().replace("’", "'").removesuffix("'s").rstrip(".")
    return _stem_key(_lookup(low)[0] if low.isalpha() else low)


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Split a text into tokens with exact offsets.

    Args:
        text: Any text.
        offset: Added to every offset (to address a sentence inside its document).

    Returns:
        The tokens in order; ``text[t.start - offset : t.end - offset] == t.text``.

    """
    out: list[Token] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup or "punct"
        raw = m.group(0)
        if kind == "word" and raw.endswith(".") and raw[:-1].lower() not in TITLES:
            raw = raw[:-1]  # a sentence's full stop, not part of the word
        clitic = kind == "clitic"
        if kind in ("abbr", "alnum", "clitic", "glued"):
            kind = "word"
        low = raw.lower().replace("’", "'")
        if clitic:
            lem, pos = low, frozenset()
        elif kind == "word":
            lem, pos = _lookup(low.rstrip("."))
        else:
            lem, pos = low.replace(",", "") if kind == "num" else low, frozenset()
        start = m.start() + offset
        out.append(Token(raw, start, start + len(raw), kind, low, lem, pos))
        if len(raw) < len(m.group(0)):  # the split-off full stop
            out.append(Token(".", start + len(raw), start + len(raw) + 1, "punct", ".", ".", frozenset()))
    return out


def content_keys(tokens: list[Token]) -> list[str]:
    """Matching keys of the content tokens, in order (duplicates kept)."""
    return [t.key for t in tokens if t.content]


def is_month(word: str) -> bool:
    """Whether a word names a month (``Nov``, ``November``)."""
    return word.lower().rstrip(".") in MONTHS
