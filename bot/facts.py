"""Numeric facts of a document, extracted at index time (the facts table, ``bot facts``, the tools).

Each quantity the language layer finds (:mod:`bot.language.quantities`) becomes a :class:`Fact` with
its exact span and sentence. What it is *about* is filled in only where the sentence's shape says so:

* ``subject`` - a name that opens the quantity's clause and is directly followed by its verb
  ("HIMA delivered 81,864 vehicles"), the owner in "X's stake of 10 percent" or the name before
  ", which ..."; a name after a preposition ("capacity in Finland grew") is not one. Otherwise left
  blank rather than guessed from proximity. A parenthesised short name after it is an alias ("(HIMA)");
  a sentence-opening English word ("Apple sold ...") counts as a name when the document also writes it
  capitalised inside a sentence;
* ``measure`` - the verb of the clause before the number ("deliver"), or the noun right after it
  ("a 10 percent *stake*");
* ``object`` - a name after "in/of/into" right after the quantity ("a stake in Yinwang");
* ``period`` - a month, quarter or year named in the same clause;
* ``role`` - ``from``/``to`` for the two ends of "from five to seven".
"""

from __future__ import annotations

import hashlib

from bot.language.chunks import DETERMINERS, POSSESSIVES, PREPOSITIONS
from bot.language.names import Name, find_names
from bot.language.quantities import (
    CURRENCY_NAMES,
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    NUMBER_WORDS,
    Quantity,
    find_quantities,
)
from bot.language.tokens import STOPWORDS, Token, is_month, tokenize
from bot.models import Fact, FactKind
from bot.split import sentence_spans

_CLAUSE_BREAKS = frozenset({";", ":", "—"})
_CLAUSE_WORDS = frozenset({"while", "whereas", "but", "although", "though", "because", "which", "who", "when"})
_KINDS: dict[str, FactKind] = {
    "count": "count", "money": "money", "percent": "percent", "date": "date", "year": "date",
    "time": "other", "duration": "period", "ordinal": "other",
}  # fmt: skip
_PERIOD_WORDS = frozenset({"quarter", "half", "year", "month", "week"})


def currency_code(name: str) -> str | None:
    """ISO 4217 code of a currency word or code (``"yuan"`` -> ``"CNY"``), or None."""
    low = name.strip().lower()
    if low.upper() in CURRENCY_NAMES:
        return low.upper()
    if low[-1:] in CURRENCY_SYMBOLS and low[:-1] in ("", "us", "u.s."):  # "$", "US$", "€"
        return CURRENCY_SYMBOLS[low[-1]]
    if low.startswith(("u.s", "us ")) and "dollar" in low:
        return "USD"
    named = {v.lower(): k for k, v in reversed(CURRENCY_NAMES.items())}  # "pounds" -> GBP
    return CURRENCY_WORDS.get(low) or CURRENCY_WORDS.get(low.rstrip("s")) or named.get(low) or named.get(low + "s")


def clause_bounds(tokens: list[Token], i: int, j: int) -> tuple[int, int]:
    """Token range of the clause around tokens ``i:j`` (cut at semicolons, dashes, "while", "which"...)."""
    a = i
    while a > 0 and tokens[a - 1].text not in _CLAUSE_BREAKS and tokens[a - 1].low not in _CLAUSE_WORDS:
        if tokens[a - 1].text == "," and a >= 2 and tokens[a - 2].kind != "num" and _participle(tokens, a):
            break
        a -= 1
    b = j
    while b < len(tokens) and tokens[b].text not in _CLAUSE_BREAKS and tokens[b].low not in _CLAUSE_WORDS:
        if tokens[b].text == "," and _participle(tokens, b + 1):
            break
        b += 1
    return a, b


def _participle(tokens: list[Token], k: int) -> bool:
    """Whether token ``k`` opens a participle clause (", surpassing ...", ", making ...")."""
    return k < len(tokens) and tokens[k].low.endswith("ing") and "VERB" in tokens[k].pos


def _number_word(t: Token) -> bool:
    return t.kind == "num" or all(p in NUMBER_WORDS for p in t.low.split("-"))


def _verb_form(tokens: list[Token], k: int) -> bool:
    """Whether token ``k`` reads as an inflected verb ("holds", "rose", "delivered").

    A word the lexicon knows as a verb only, or a verb form that is not its own lemma, that does not
    follow a determiner or a number ("the third quarter", "its holds", "five plants").
    """
    t = tokens[k]
    if "VERB" not in t.pos:
        return False
    if k > 0 and (tokens[k - 1].low in DETERMINERS | POSSESSIVES or _number_word(tokens[k - 1])):
        return False
    return t.verb or t.low.endswith(("ed", "s")) or t.lemma != t.low.rstrip(".")


_GOVERNORS = PREPOSITIONS | {"as", "than"}
_HELPERS = frozenset({"also", "has", "have", "had", "will"})
_CONJUNCTIONS = frozenset({"and", "or", "&"})


_PLACE_PREPOSITIONS = frozenset({"in", "at", "near", "outside", "inside", "across", "from"})


def _governed(tokens: list[Token], i: int, names: list[Name]) -> bool:
    """Whether the name at token ``i`` is the object of a preposition, so not a subject.

    "capacity in Denmark and Finland grew", "rivals such as Nio, Xpeng, and Li Auto": back from the name
    through a list of names to a preposition. Commas count only in a list of three or more names, so
    ", and Seres also secured" after "a stake in Yinwang" starts a new clause.
    """
    covered = {k for n in names for k in range(n.i, n.j)}
    starts = {n.i for n in names}
    k = i - 1
    in_list = k >= 0 and tokens[k].low in _CONJUNCTIONS
    comma_list = in_list and k >= 1 and tokens[k - 1].text == ","
    before = 0
    while k >= 0 and (
        k in covered or tokens[k].low in _CONJUNCTIONS or tokens[k].low == "the" or (in_list and tokens[k].text == ",")
    ):
        before += k in starts
        k -= 1
    if comma_list and before < 2:
        return False
    return k >= 0 and tokens[k].low in _GOVERNORS and (k + 1 in covered or tokens[k + 1].low == "the")


def subject_of(tokens: list[Token], names: list[Name], q_i: int, clause: tuple[int, int]) -> Name | None:
    """The name the sentence's structure makes the subject of a quantity, or None.

    The name must stand in the quantity's clause before it, not as the object of a preposition, and be
    followed (through an adverb or an auxiliary) by a verb, or own the noun next to the quantity
    ("X's 10 percent stake"); or it is the name a relative clause opens on ("X, which took 12 percent").
    """
    a, _b = clause
    for nm in reversed([n for n in names if a <= n.i and n.j <= q_i]):
        if _governed(tokens, nm.i, names):
            continue
        k = nm.j
        if k < q_i and tokens[k].text == "(":  # "Harmony Intelligent Mobility Alliance (HIMA) delivered"
            k = next((m + 1 for m in range(k, q_i) if tokens[m].text == ")"), k)
        if k < len(tokens) and tokens[k].low in ("'s", "’s") and k + 1 <= q_i:
            return nm
        while k < q_i and ("ADV" in tokens[k].pos or tokens[k].low in _HELPERS):
            k += 1
        if k < q_i and _verb_form(tokens, k):
            return nm
        if k < q_i and tokens[k].text == ",":  # "Changan, through the Avatr brand, invested ...": the verb
            last = max((m for m in range(k + 1, q_i) if tokens[m].text == ","), default=None)  # right after
            m = q_i if last is None else last + 1
            while m < q_i and ("ADV" in tokens[m].pos or tokens[m].low in _HELPERS):
                m += 1
            if m < q_i and _verb_form(tokens, m):
                return nm
    # "led by Selvo Partners, which took a 12 percent stake": the name before ", which/who" when the
    # quantity stands in the relative clause itself (no comma closes it before the quantity)
    k = a
    while k < q_i and "ADV" in tokens[k].pos:
        k += 1
    relative = a >= 2 and tokens[a - 1].low in ("which", "who") and tokens[a - 2].text == ","
    if relative and k < q_i and _verb_form(tokens, k) and all(t.text != "," for t in tokens[a:q_i]):
        before = [n for n in names if n.j == a - 2]
        placed = before and before[0].i >= 1 and tokens[before[0].i - 1].low in _PLACE_PREPOSITIONS
        if before and not placed:
            return before[0]  # "the collision in Dunmore, which injured eleven": not Dunmore
    return None


def _measure(tokens: list[Token], q: Quantity, clause: tuple[int, int]) -> str | None:
    a, b = clause
    if q.j < b and tokens[q.j].kind == "word" and tokens[q.j].noun and q.kind in ("percent", "money"):
        return tokens[q.j].lemma
    for k in range(q.i - 1, a - 1, -1):
        if _verb_form(tokens, k) and tokens[k].lemma not in STOPWORDS and tokens[k].lemma != "be":
            return tokens[k].lemma
    return q.unit


def _object(tokens: list[Token], names: list[Name], q: Quantity, clause: tuple[int, int]) -> str | None:
    k = q.j
    if k < clause[1] and tokens[k].kind == "word" and tokens[k].noun and not tokens[k].cap:
        k += 1
    if k < clause[1] and tokens[k].low in ("in", "of", "into", "for"):
        for nm in names:
            if nm.i in (k + 1, k + 2):
                return nm.text
    return None


def _period(tokens: list[Token], clause: tuple[int, int], quantities: list[Quantity], q: Quantity) -> str | None:
    """The month or quarter named in the clause nearest to the quantity, else the nearest year or date."""
    a, b = clause

    def distance(k: int) -> tuple[int, bool]:  # a tie goes to the period after the number ("5 in 2024")
        return (q.i - k, True) if k < q.i else (k - q.j + 1, False)

    named: list[tuple[tuple[int, bool], str]] = []
    for k in range(a, b):
        t = tokens[k]
        if is_month(t.low) and t.cap and not (q.i <= k < q.j):
            named.append((distance(k), t.text))
        if t.low in _PERIOD_WORDS and k > a and tokens[k - 1].low in ("first", "second", "third", "fourth", "last"):
            named.append((distance(k - 1), f"{tokens[k - 1].text} {t.text}"))
    if not named:
        named = [
            (distance(o.i), o.text) for o in quantities if o is not q and o.kind in ("year", "date") and a <= o.i < b
        ]
    return min(named, key=lambda d: d[0])[1] if named else None


def _fact_id(source: str, start: int, end: int, role: str | None) -> str:
    return "f-" + hashlib.sha1(f"{source}\0{start}\0{end}\0{role}".encode()).hexdigest()[:16]


def _aliases(tokens: list[Token], subject: Name) -> list[str]:
    """A capitalised word in parentheses right after a name: its other name ("... Alliance (HIMA)")."""
    j = subject.j
    if j + 2 < len(tokens) and tokens[j].text == "(" and tokens[j + 2].text == ")" and tokens[j + 1].cap:
        return [tokens[j + 1].text]
    return []


def _with_opening_name(tokens: list[Token], names: list[Name], known: set[str]) -> list[Name]:
    """Add a sentence-opening word the lexicon knows ("Apple sold ...") as a name.

    Only when the document also writes it capitalised, on its own, inside a sentence (where the capital
    cannot come from its position).
    """
    if not tokens or not known or (names and names[0].i == 0):
        return names
    t = tokens[0]
    if t.cap and not t.stop and t.low in known:
        return [Name(0, 1, t.text, t.start, t.end), *names]
    return names


def sentence_facts(source: str, sentence: str, offset: int) -> list[Fact]:
    """The facts of one sentence (offsets in document coordinates)."""
    tokens = tokenize(sentence, offset)
    return _facts(source, sentence, offset, tokens, None)


def _facts(source: str, sentence: str, offset: int, tokens: list[Token], names: list[Name] | None) -> list[Fact]:
    quantities = find_quantities(sentence, offset, tokens)
    if not quantities:
        return []
    if names is None:
        names = find_names(tokens, sentence, offset)
    out: list[Fact] = []
    for q in quantities:
        clause = clause_bounds(tokens, q.i, q.j)
        subject = subject_of(tokens, names, q.i, clause)
        base = {
            "source": source,
            "quantity_text": q.text,
            "kind": _KINDS.get(q.kind, "other"),
            "unit": (CURRENCY_NAMES.get(q.currency) if q.currency else q.unit),
            "currency": q.currency,
            "subject": subject.text if subject else None,
            "subject_aliases": _aliases(tokens, subject) if subject else [],
            "object": _object(tokens, names, q, clause),
            "measure": _measure(tokens, q, clause),
            "period": _period(tokens, clause, quantities, q),
            "sentence": sentence,
            "sentence_start": offset,
            "sentence_end": offset + len(sentence),
            "approximate": q.approximate,
            "role": {"lower": "lower_bound", "upper": "upper_bound"}.get(q.bound or ""),
        }
        from_to = q.is_range and q.i > 0 and tokens[q.i - 1].low == "from"
        if from_to:
            for role, value in (("from", q.low), ("to", q.high)):
                out.append(
                    Fact(
                        id=_fact_id(source, q.start, q.end, role),
                        text=q.text,
                        start=q.start,
                        end=q.end,
                        value=value,
                        **{**base, "role": role},
                    )
                )
            continue
        out.append(
            Fact(
                id=_fact_id(source, q.start, q.end, None),
                text=q.text,
                start=q.start,
                end=q.end,
                value=q.value,
                low=q.low,
                high=q.high,
                **base,
            )
        )
    return out


def extract_facts(text: str, source: str) -> list[Fact]:
    """All numeric facts of a document, in order.

    Args:
        text: The document's indexed text.
        source: Its source name.

    Returns:
        Facts with exact spans: ``text[f.start:f.end] == f.text`` and the sentence likewise.

    """
    sentences = []
    known: set[str] = set()  # one-word names written inside a sentence
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        tokens = tokenize(sentence, start)
        names = find_names(tokens, sentence, start)
        known.update(tokens[n.i].low for n in names if n.i > 0 and n.j - n.i == 1)
        sentences.append((sentence, start, tokens, names))
    out: list[Fact] = []
    for sentence, start, tokens, names in sentences:
        out.extend(_facts(source, sentence, start, tokens, _with_opening_name(tokens, names, known)))
    return out


def measure_lemma(word: str, fuzzy: bool = False) -> str:
    """The dictionary form of a measure word (``deliveries`` -> ``delivery``); ``fuzzy`` is ignored."""
    from bot.language.tokens import lemma

    del fuzzy
    return lemma(word.strip())


def facts_about(facts: list[Fact], subject: str | None) -> list[Fact]:
    """The facts whose subject, object or sentence names ``subject`` (all facts when it is empty); for listings."""
    if not subject:
        return list(facts)
    low = subject.lower()
    return [
        f
        for f in facts
        if low in (f.subject or "").lower() or low in (f.object or "").lower() or low in f.sentence.lower()
    ]
