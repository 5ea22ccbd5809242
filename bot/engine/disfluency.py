"""Questions that correct themselves: "How many cars, I mean trucks, did Acme sell?" is read as corrected.

A correction marker ("no sorry", "I mean", "sorry", "— no,", "scratch that" ...) splits a question into what
was said before it and the repair after it. The repair replaces the phrase of the same kind just before the
marker:

* a repair that starts a new question ("who runs Acme?") replaces the whole question it interrupts (earlier
  complete sentences stay);
* a name replaces the last name ("Acme Corp, I mean Zeta"), a number the last number phrase ("in 2019, no
  sorry, 2020"), a phrase opened by a preposition or a determiner the last phrase opened by the same word
  ("in Leeds, no, in Hull");
* any other word replaces the run of lower-case content words right before the marker ("cars, I mean
  trucks"; "sell, I mean buy"), or the pronoun there ("Who leads it, sorry, the company ...");
* a marker with nothing to replace before it ("How many, I mean, trucks ...") is dropped;
* when no phrase of the repair's kind is found, the last clause - the repair and what follows it - is kept.

The parenthetical comma or dash that closes a short repair ("cars, I mean trucks, did ...") goes with the
marker. Several corrections are applied left to right. The rules are data at the top of this module; a
question without a marker is returned unchanged.
"""

from __future__ import annotations

import re

from bot.language.names import find_names
from bot.language.tokens import AUXILIARIES, STOPWORDS, WEEKDAYS, WH_WORDS, Token, is_month, tokenize

__all__ = ["corrected"]

# -- the rules -------------------------------------------------------------------------------------
STRONG_MARKERS = (
    "no sorry", "sorry no", "sorry", "i mean", "i meant", "no wait", "wait", "oops", "or rather", "make that",
    "correction", "scratch that", "strike that", "let me rephrase that", "let me rephrase", "i should say",
    "no no", "pardon me", "my bad", "my mistake",
)  # fmt: skip
"""Phrases that announce a correction after a comma, a dash or an ellipsis."""
WEAK_MARKERS = ("no", "nope", "oh", "uh", "um", "umm", "er", "erm", "ah", "actually", "well")
"""Fillers that may stand around a strong marker ("no, actually, sorry, ...")."""
LONE_NO = ("no", "nope")
"""Words that announce a correction on their own between punctuation ("cars — no, trucks")."""
LONE_NO_AFTER = frozenset({"yes", "or", "and"})
LONE_NO_BEFORE = frozenset({"or", "and", "nor", "not"})
"""A lone "no" after or before these words is one of the choices asked about ("yes, no, or maybe")."""
BARE_MARKERS = ("no sorry", "sorry no", "i mean", "i meant", "scratch that", "or rather", "no wait", "strike that")
"""Markers that need no punctuation before them ("How many cars I mean trucks did Acme sell?")."""
NOT_AFTER = frozenset(AUXILIARIES) | {"to", "what", "you", "we", "they"}
"""Words after which a bare marker is ordinary speech ("What do I mean by ...", "did I mean ...")."""
RESTART_WORDS = frozenset(WH_WORDS) | frozenset(AUXILIARIES) | {
    "what's", "who's", "where's", "how's", "when's", "tell", "list", "name", "give", "show", "explain", "describe",
    "summarize", "summarise",
}  # fmt: skip
"""Words that open a new question: a repair starting with one replaces the whole interrupted question."""
PREPOSITIONS = frozenset(
    "in on at from to for by with of into onto during since before after until about over under between "
    "among through".split()
)
DETERMINERS = frozenset("the a an its their his her this that these those our my your".split())
PRONOUNS = frozenset("it he she they him her them this that these those".split())
SHORT_REPAIR = 4
"""Words of a repair that a closing comma or dash may follow (a longer repair keeps its commas)."""

_LEAD = r"(?:\s*[,;:]\s*|\s+[—–]\s*|\s*[—–]\s+|\s+--?\s+|\s*(?:\.\.\.|…)\s*)"
_SEP = r"[\s,:;—–.…-]*"


def _alternation(phrases: tuple[str, ...]) -> str:
    ordered = sorted(phrases, key=len, reverse=True)
    return "(?:" + "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in ordered) + ")"


_STRONG, _WEAK, _BARE = _alternation(STRONG_MARKERS), _alternation(WEAK_MARKERS), _alternation(BARE_MARKERS)
_MARKER = re.compile(
    rf"{_LEAD}(?:{_WEAK}\b{_SEP})*{_STRONG}\b(?:{_SEP}(?:{_STRONG}|{_WEAK})\b)*{_SEP}"
    rf"|{_LEAD}{_alternation(LONE_NO)}\s*[,;:—–]+(?:{_SEP}(?:{_STRONG}|{_WEAK})\b)*{_SEP}"
    rf"|(?<=\w)\s+{_BARE}\b(?:{_SEP}(?:{_STRONG}|{_WEAK})\b)*{_SEP}",
    re.IGNORECASE,
)
_STRONG_RE = re.compile(rf"\b{_STRONG}\b", re.IGNORECASE)
_CLOSING = re.compile(r"\s*(?:,|[—–]|--?)\s*")
_SENTENCE_END = re.compile(r"[.!?]\s+")


# -- applying them ---------------------------------------------------------------------------------
def corrected(question: str) -> str:
    """The question as its speaker corrected it.

    Args:
        question: The question as typed or transcribed.

    Returns:
        The question with each self-correction applied; unchanged when it has none.

    Example:
        >>> corrected("How many cars, I mean trucks, did Acme sell?")
        'How many trucks did Acme sell?'
        >>> corrected("Who founded Acme — sorry, who runs Acme?")
        'Who runs Acme?'

    """
    text = question
    for _ in range(8):  # each pass applies the first correction left; a bound, not a loop on user text
        m = _first_marker(text)
        if m is None:
            break
        text = _apply(text[: m.start()], text[m.end() :], m.group(0))
    return text


def _first_marker(text: str) -> re.Match[str] | None:
    for m in _MARKER.finditer(text):
        if m.start() == 0 or not text[: m.start()].strip(" ,;:—–-"):
            continue  # "Sorry, who ..." opens the question: nothing before it to correct
        before = text[: m.start()].split()
        if re.match(r"\s+\w", m.group(0)) and before and before[-1].lower() in NOT_AFTER:
            continue  # "What do I mean by ...": a bare marker after an auxiliary is ordinary speech
        if not text[m.end() :].strip(" ?.!"):
            continue  # nothing after it to correct with
        if not _STRONG_RE.search(m.group(0)):
            nxt = text[m.end() :].split()
            if before[-1].lower().strip(",;:") in LONE_NO_AFTER or (nxt and nxt[0].lower() in LONE_NO_BEFORE):
                continue  # "yes, no, or maybe": a choice, not a correction
        return m
    return None


def _apply(left: str, right: str, marker: str) -> str:
    right = right.lstrip()
    words = [t for t in tokenize(right) if t.kind in ("word", "num")]
    if not words:
        return left + right
    if words[0].low in RESTART_WORDS:  # a new question: it replaces the one it interrupts
        return left[: _clause_start(left)] + _capital(right)
    right = _drop_closing(right, marker)
    rtoks = tokenize(right)
    span = _reparandum(left, rtoks)
    if span is None:  # nothing to replace before the marker: it was a filler
        return _join(left, right)
    if span == UNSURE:  # unsure what the repair replaces: keep the last clause
        return left[: _clause_start(left)] + _capital(right)
    a, b = span
    tail = left[b:]
    if tail.strip():  # the replaced phrase is not the last one: put a repair that is just a phrase in its place
        stop = next((t.start for t in rtoks if t.kind == "punct"), len(right))
        if not right[stop:].strip(" ?.!"):
            return _join(left[:a], right[:stop].rstrip()) + tail.rstrip() + right[stop:]
    return _join(left[:a], right)


UNSURE = (-1, -1)
"""What :func:`_reparandum` returns when it cannot tell which phrase the repair replaces."""


def _clause_start(left: str) -> int:
    ends = list(_SENTENCE_END.finditer(left))
    return ends[-1].end() if ends else 0


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(a: str, b: str) -> str:
    if not a.strip():
        return _capital(b)
    if not a[-1:].isspace() and b[:1] not in (",", ".", "?", "!", ";", ":"):
        a += " "
    return a + b


def _drop_closing(right: str, marker: str) -> str:
    """Drop the comma or dash that closes a short repair when the marker opened with one ("cars, I mean trucks,")."""
    if not re.match(r"\s*[,—–-]", marker):
        return right
    m = _CLOSING.search(right)
    if m is None or m.start() == 0:
        return right
    repair = right[: m.start()]
    if _MARKER.match(right, m.start()):
        return right  # the comma opens the next correction ("vans, no sorry, trucks")
    if len(repair.split()) > SHORT_REPAIR or re.search(r"[.?!]", repair) or not right[m.end() :].strip(" ?.!"):
        return right
    return f"{repair} {right[m.end() :]}"


def _kind(t: Token) -> str:
    if t.kind == "num":
        return "num"
    if is_month(t.low) or t.low in WEEKDAYS or re.fullmatch(r"q[1-4]", t.low):
        return "date"
    return "name" if t.cap and t.low not in STOPWORDS and t.low != "i" else "word"


def _reparandum(left: str, rtoks: list[Token]) -> tuple[int, int] | None:
    """The span of ``left`` the repair replaces: the last phrase of the repair's kind (None: nothing to replace)."""
    toks = [t for t in tokenize(left) if t.start >= _clause_start(left)]
    head = next(t for t in rtoks if t.kind in ("word", "num"))
    if not toks:
        return None
    if head.kind == "num":
        nums = [k for k, t in enumerate(toks) if t.kind == "num"]
        if not nums:
            return UNSURE
        k = nums[-1] + 1
        while k < len(toks) and toks[k].kind == "word" and toks[k].content and not toks[k].cap:
            k += 1  # its unit: "12 percent"
        return toks[nums[-1]].start, toks[k - 1].end
    if _kind(head) == "date":
        dates = [k for k, t in enumerate(toks) if _kind(t) == "date"]
        return (toks[dates[-1]].start, toks[dates[-1]].end) if dates else UNSURE
    if _kind(head) == "name":
        names = find_names(toks, left)
        if names:
            return names[-1].start, names[-1].end
        return _at_end(toks, with_determiner=True, most=_repair_words(rtoks))
    if head.low in PREPOSITIONS or head.low in DETERMINERS:
        words = [t for t in rtoks if t.kind in ("word", "num")]
        after = _kind(words[1]) if len(words) > 1 else None
        kinds = PREPOSITIONS if head.low in PREPOSITIONS else DETERMINERS
        same = [k for k, t in enumerate(toks) if t.low == head.low]
        fits = [k for k in same if k + 1 < len(toks) and _kind(toks[k + 1]) == after]
        alike = fits or same or [k for k, t in enumerate(toks) if t.low in kinds]
        if not alike:
            return _at_end(toks, with_determiner=True, most=_repair_words(rtoks)) if kinds is DETERMINERS else UNSURE
        k = alike[-1] + 1
        while k < len(toks) and toks[k].kind != "punct" and toks[k].low not in PREPOSITIONS | AUXILIARIES | WH_WORDS:
            k += 1
        return toks[alike[-1]].start, toks[k - 1].end
    return _at_end(toks, with_determiner=False, most=_repair_words(rtoks))


def _repair_words(rtoks: list[Token]) -> int:
    """Words of the repair phrase: the content words it opens with ("carbon dioxide", "trucks" of "trucks did")."""
    n = 0
    for t in rtoks:
        if not (t.kind == "num" or (t.kind == "word" and t.content)):
            break
        n += 1
    return max(1, n)


def _at_end(toks: list[Token], with_determiner: bool, most: int) -> tuple[int, int] | None:
    """The last lower-case content words (at most ``most``), or the pronoun, that end ``toks``.

    None when ``toks`` end on a function word (nothing to replace).
    """
    last = toks[-1]
    if last.kind == "punct":
        return UNSURE
    k = len(toks)
    while k > max(0, len(toks) - most) and (toks[k - 1].kind == "num" or (
            toks[k - 1].kind == "word" and toks[k - 1].content and not toks[k - 1].cap)):  # fmt: skip
        k -= 1
    if k < len(toks):
        if with_determiner and k > 0 and toks[k - 1].low in DETERMINERS:
            k -= 1  # "the company, sorry, Acme": the name replaces the whole noun phrase
        return toks[k].start, last.end
    if last.low in PRONOUNS:
        return last.start, last.end
    return None if last.low in STOPWORDS else UNSURE
