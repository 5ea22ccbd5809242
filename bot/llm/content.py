"""Whether a generative reply says what its cited sentences say: its subject, its names, its words.

:func:`bot.llm.check.check_reply` uses two checks from here, after the numbers, markers and roles:

* :func:`off_subject` - the cited sentences (or the sentence right before one, which says who "it" is)
  must name every name the question asks about; a reply citing a sentence about another brand or
  person answers another question;
* :func:`unsupported_words` - each name and content word of the reply must occur in the sentences its
  ``[n]`` markers cite: names exactly (after case folding) or by a name the evidence gives for them
  (``Harmony Intelligent Mobility Alliance (HIMA)``, or an acronym of a name's initials); other
  words exactly, by lemma (``delivered`` / ``deliveries``) or close in meaning (MiniLM vectors of the
  words, cosine >= :data:`SAME_MEANING`, when an index is given). The question's own words, function
  words, numbers (checked by the numeric guard), the answer's yes/no and the words a reply frames an
  answer with (:data:`FRAME_WORDS`) are exempt.

Words are read with the project's tokenizer (:func:`bot.language.tokens.tokenize`) and names with
:func:`bot.language.names.find_names`. The word lists are data at the top of this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.language.names import find_names
from bot.language.quantities import CURRENCY_NAMES, CURRENCY_WORDS, NUMBER_WORDS, TIME_UNITS
from bot.language.tokens import NEGATIONS, STOPWORDS, TITLES, Token, key, tokenize
from bot.models import Citation

__all__ = [
    "FRAME_WORDS",
    "SAME_MEANING",
    "Cited",
    "cited_sentences",
    "off_subject",
    "sentence_before",
    "subject_names",
    "unsupported_words",
]

SAME_MEANING = 0.7
"""Cosine of two words' MiniLM vectors (normalised) from which they count as saying the same thing."""

_FRAME_WORD_TEXT = """
according document documents evidence text passage source sources article report reports reported
mention mentions mentioned state states stated say says said note notes noted indicate indicates indicated
approximately roughly around nearly almost exactly precisely total combined together altogether overall
respectively likely probably possibly perhaps answer question yes none nothing also specifically namely
include includes including included call calls called name names named know known refer refers referred
make makes made take takes took taken give gives gave given get gets got become becomes became remain remains
thousand million billion trillion bn mn percent per cent percentage
because since therefore thus hence due whereas although though however while meanwhile instead
"""
FRAME_WORDS = frozenset(_FRAME_WORD_TEXT.split()) | NUMBER_WORDS | frozenset(TIME_UNITS) | NEGATIONS
"""Words a reply may use to frame its answer without the cited sentence stating them."""

_GENERIC_NAME_WORD_TEXT = """
inc inc. ltd ltd. llc plc corp corp. co co. company corporation group holding holdings motor motors
automobile automotive technologies technology international the
"""
GENERIC_NAME_WORDS = frozenset(_GENERIC_NAME_WORD_TEXT.split())
"""Words of a company name that may be added or left out ("Dongfeng Motor" is "Dongfeng")."""
_JOINERS = frozenset({"of", "de", "del", "der", "van", "von", "la", "le", "du", "da", "&", "al", "bin", "y", "and"})

_ALIAS = re.compile(r"([A-Z][\w'’.&-]*(?:\s+(?:of|de|the|and|&|for)?\s*[A-Z][\w'’.&-]*)*)\s*\(\s*([^()]{1,60}?)\s*\)")
"""``Long Name (ALIAS)`` or ``ALIAS (Long Name)``: two names for one thing."""
_MARKERS = re.compile(r"(?:\[\d+\])+")
_BEFORE_WINDOW = 600
"""Characters read before a cited sentence to find the sentence right before it."""


@dataclass
class Cited:
    """One cited evidence sentence, with the sentence right before it read only when needed."""

    citation: Citation
    before: Callable[[], str] = field(default=lambda: "")
    _before: str | None = None

    @property
    def text(self) -> str:
        """The cited sentence."""
        return self.citation.quote

    def context(self) -> str:
        """The sentence right before the cited one ("" when unknown)."""
        if self._before is None:
            self._before = self.before() or ""
        return self._before


def sentence_before(c: Citation, evidence: Sequence[Citation], index: Any | None) -> str:
    """The sentence right before a cited one: from the evidence when given, else read from the index.

    Args:
        c: The cited sentence.
        evidence: All evidence sentences of the reply's prompt.
        index: The engine index (``sentences_between``), or None.

    Returns:
        The sentence, or "" when it is not known.

    """
    for other in evidence:
        if other.source == c.source and 0 <= c.start - other.end <= 3 and other.start < c.start:
            return other.quote
    if index is None:
        return ""
    try:
        records = index.sentences_between(c.source, max(0, c.start - _BEFORE_WINDOW), c.start)
    except Exception:  # the context only rescues a reply; without it the cited sentence alone decides
        return ""
    found = ""
    for record, _vector in records:
        if 0 <= c.start - record.end <= 3:
            found = record.text
    return found


def cited_sentences(numbers: Sequence[int], evidence: Sequence[Citation], index: Any | None) -> dict[int, Cited]:
    """The cited evidence sentences by number, each able to read the sentence right before it."""
    by_n = {c.n: c for c in evidence}
    return {
        n: Cited(by_n[n], before=lambda c=by_n[n]: sentence_before(c, evidence, index)) for n in numbers if n in by_n
    }


# -- the subject -----------------------------------------------------------------------------------
def _words_of(text: str) -> tuple[set[str], set[str]]:
    """Lower-case words and matching keys of a text (hyphenated words also by their parts)."""
    lows: set[str] = set()
    keys: set[str] = set()
    for t in tokenize(text):
        if t.kind not in ("word", "num"):
            continue
        lows.add(t.low.rstrip("."))
        keys.add(t.key)
        if "-" in t.low:
            parts = [p for p in t.low.split("-") if p]
            lows.update(parts)
            keys.update(key(p) for p in parts)
    return lows, keys


def _name_words(name: str) -> list[str]:
    words = [w.lower().strip(".’'") for w in name.split()]
    words = [re.sub(r"['’]s$", "", w) for w in words]
    return [w for w in words if w and w not in TITLES and w not in _JOINERS and w not in GENERIC_NAME_WORDS]


def _is_currency(word: str) -> bool:
    return word in CURRENCY_WORDS or word.upper() in CURRENCY_NAMES or word in ("u.s", "us", "dollars")


def subject_names(question: str) -> list[list[str]]:
    """The names a question asks about, as groups of alternatives ("Changan or Seres" is one group).

    Names that modify a noun ("US dollars", "the Nordic market") and the options of an either/or question
    ("Was it Acme or Zeta?") are left out: the sentence that answers may name only one option.
    """
    from bot.engine.question import analyse

    q = analyse(question)
    options = {w for o in q.options for w in _name_words(o)}
    groups: list[list[str]] = []
    for name in q.names:
        words = _name_words(name)
        if not words or q.modifier(name) or all(_is_currency(w) for w in words) or set(words) <= options:
            continue
        last = groups[-1][-1] if groups else None
        if last and re.search(re.escape(last) + r",?\s+(?:or|nor)\s+" + re.escape(name), question):
            groups[-1].append(name)
        else:
            groups.append([name])
    return groups


def off_subject(question: str, cited: Sequence[Cited]) -> str | None:
    """The first name of the question that the cited sentences do not name (None when they name all).

    A name counts as named when one of its words (not a title or a word like "Motor") occurs in a cited
    sentence or in the sentence right before one (which says who "it" or "the company" is) - the rule
    :func:`bot.engine.exchange.about_subject` applies to conversions, for any question. Of names offered as
    alternatives ("Changan or Seres"), one is enough.

    Args:
        question: The question (after resolving a follow-up).
        cited: The sentences the reply cites.

    Returns:
        The missing name, or None.

    """
    groups = subject_names(question)
    if not groups or not cited:
        return None
    lows, keys = _words_of(" ".join(c.text for c in cited))

    def named(group: list[str]) -> bool:
        return any(w in lows or key(w) in keys for name in group for w in _name_words(name))

    missing = [g for g in groups if not named(g)]
    if missing:  # the sentences before the cited ones may name them ("It ..." after "Acme ...")
        lows_b, keys_b = _words_of(" ".join(c.context() for c in cited))
        lows |= lows_b
        keys |= keys_b
        missing = [g for g in missing if not named(g)]
    return " or ".join(missing[0]) if missing else None


# -- the reply's words -----------------------------------------------------------------------------
@dataclass
class _Part:
    """A stretch of the reply and the sentences its markers cite."""

    start: int
    end: int
    cited: list[Cited]


def _parts(text: str, cited: dict[int, Cited]) -> tuple[str, list[_Part]]:
    """The reply without markers, cut after each group of markers; the text after the last group joins it."""
    clean, parts, pos, at = "", [], 0, 0
    for m in _MARKERS.finditer(text):
        clean += text[pos : m.start()]
        numbers = [int(x) for x in re.findall(r"\d+", m.group(0))]
        parts.append(_Part(at, len(clean), [cited[n] for n in numbers if n in cited]))
        at, pos = len(clean), m.end()
    clean += text[pos:]
    if parts:
        parts[-1].end = len(clean)
    return clean, parts


def _aliases(texts: Sequence[str]) -> list[tuple[str, str]]:
    """``(name, other name)`` pairs the texts give in parentheses, both ways, lower case."""
    pairs = []
    for text in texts:
        for m in _ALIAS.finditer(text):
            a, b = m.group(1).strip().lower(), m.group(2).strip().lower()
            a = re.sub(r"^(?:its|the|their|his|her)\s+", "", a)
            pairs += [(a, b), (b, a)]
    return pairs


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w and w not in _JOINERS and w != "the")


def _acronyms(text: str) -> set[str]:
    """Acronyms of the capitalised runs of a text ("harmony intelligent mobility alliance" -> "hima")."""
    out = set()
    for nm in find_names(tokenize(text), text):
        words = [w.lower() for w in nm.text.split()]
        if len(words) >= 2:
            out.add(_initials(words))
    return out


def _name_supported(name: str, cited: list[Cited], aliases: list[tuple[str, str]], exempt: set[str]) -> bool:
    """Whether the cited sentences give a name of the reply: its words, an alias of it, or its acronym.

    At least one word of the name must be in a cited sentence itself; its other words may come from the
    sentence right before (a first name given once: "Maria Lopez ... Lopez said").
    """
    words = [w for w in _name_words(name) if w not in exempt and key(w) not in exempt]
    if not words:
        return True
    text = " ".join(c.text for c in cited)
    lows, _ = _words_of(text)
    if all(w in lows for w in words):
        return True
    low_text = " ".join(text.lower().split())
    whole = " ".join(name.lower().split())
    for a, b in aliases:
        if a == whole and re.search(r"(?<!\w)" + re.escape(b) + r"(?!\w)", low_text):
            return True
    if whole.replace(".", "") in _acronyms(text) or (len(words) >= 2 and _initials(whole.split()) in lows):
        return True  # "HIMA" for "Harmony Intelligent Mobility Alliance", or the other way round
    if any(w in lows for w in words):
        context, _ = _words_of(" ".join(c.context() for c in cited))
        return all(w in lows or w in context for w in words)
    return False


def _exempt(t: Token, asked: set[str]) -> bool:
    if t.kind != "word" or not t.content:
        return True
    low = t.low.rstrip(".")
    return (
        low in FRAME_WORDS
        or t.lemma in FRAME_WORDS
        or low in STOPWORDS
        or low in asked
        or t.key in asked
        or len(low) < 2
    )


def unsupported_words(
    text: str,
    cited: dict[int, Cited],
    question: str,
    trusted: Sequence[str] = (),
    evidence: Sequence[str] = (),
    index: Any | None = None,
) -> list[str]:
    """The names and content words of a reply that the sentences its markers cite do not state.

    Args:
        text: The reply, with its ``[n]`` markers.
        cited: The cited sentences by marker number (:func:`cited_sentences`).
        question: The question (its words are exempt).
        trusted: Texts whose words a reply may use too (tool results).
        evidence: All evidence sentences (for the aliases they give: ``Long Name (ALIAS)``).
        index: The engine index (``embed_words``) for the close-in-meaning test; None skips that test.

    Returns:
        The unsupported words as the reply writes them (names first), empty when all are supported.

    """
    clean, parts = _parts(text, cited)
    if not parts:
        return []
    tokens = tokenize(clean)
    q_lows, q_keys = _words_of(question)
    asked = q_lows | q_keys
    t_lows, t_keys = _words_of(" ".join(trusted))
    free = asked | t_lows | t_keys
    aliases = _aliases([*evidence, *(c.text for p in parts for c in p.cited)])

    def part_of(start: int) -> _Part:
        return next((p for p in parts if start < p.end), parts[-1])

    bad_names: list[str] = []
    in_names: set[int] = set()
    for nm in find_names(tokens, clean):
        in_names.update(range(nm.i, nm.j))
        part = part_of(nm.start)
        if not _name_supported(nm.text, part.cited, aliases, free):
            bad_names.append(nm.text)
    unsure: list[tuple[Token, _Part]] = []
    for i, t in enumerate(tokens):
        if i in in_names or _exempt(t, free):
            continue  # names were checked as names
        part = part_of(t.start)
        lows, keys = _words_of(" ".join(c.text for c in part.cited))
        pieces = [p for p in t.low.split("-") if len(p) > 1] if "-" in t.low else [t.low]
        if t.lemma in lows or t.lemma in keys:
            continue
        if all(p in FRAME_WORDS or _stated(p, lows | keys) or _stated(p, free) for p in pieces):
            continue
        unsure.append((t, part))
    bad_words = _not_close(unsure, index) if unsure else []
    return list(dict.fromkeys([*bad_names, *bad_words]))


SAME_STEM = 5
"""Letters two words' keys must share from their start when one key begins the other (invest / investment)."""


def _stated(word: str, words: set[str]) -> bool:
    """Whether a word is among some words and keys: as written, by key, or as a longer or shorter form of one."""
    if word in words:
        return True
    k = key(word)
    if k in words:
        return True
    return any(
        len(short) >= SAME_STEM and long.startswith(short)
        for w in words
        for short, long in ((k, w), (w, k))
        if len(short) < len(long)
    )


def _not_close(unsure: list[tuple[Token, _Part]], index: Any | None) -> list[str]:
    """The words that no content word of their cited sentences is close to in meaning."""
    if index is None or not hasattr(index, "embed_words"):
        return [t.text for t, _ in unsure]
    candidates: dict[int, list[str]] = {}
    for t, part in unsure:
        words = {s.low.rstrip(".") for c in part.cited for s in tokenize(c.text) if s.kind == "word" and s.content}
        candidates[id(t)] = sorted(words)
    vocabulary = sorted({t.low for t, _ in unsure} | {w for ws in candidates.values() for w in ws})
    try:
        vectors = dict(zip(vocabulary, index.embed_words(vocabulary), strict=True))
    except Exception:  # no vectors: only exact and lemma matches count
        return [t.text for t, _ in unsure]
    out = []
    for t, _part in unsure:
        v = vectors[t.low]
        best = max((sum(a * b for a, b in zip(v, vectors[w], strict=False)) for w in candidates[id(t)]), default=0.0)
        if best < SAME_MEANING:
            out.append(t.text)
    return out
