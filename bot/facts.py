"""Numeric facts of a document, extracted at index time (the facts table, ``bot facts``, the tools).

Each quantity the language layer finds (:mod:`bot.language.quantities`) becomes a :class:`Fact` with
its exact span and sentence. What it is *about* is filled in only where the sentence's shape says so:

* ``subject`` - a name that opens the quantity's clause and is directly followed by its verb
  ("HIMA delivered 81,864 vehicles"), or the owner in "X's stake of 10 percent"; otherwise left blank
  rather than guessed from proximity;
* ``measure`` - the verb of the clause before the number ("deliver"), or the noun right after it
  ("a 10 percent *stake*");
* ``object`` - a name after "in/of/into" right after the quantity ("a stake in Yinwang");
* ``period`` - a month, quarter or year named in the same clause;
* ``role`` - ``from``/``to`` for the two ends of "from five to seven".
"""

from __future__ import annotations

import hashlib

from bot.language.names import Name, find_names
from bot.language.quantities import CURRENCY_NAMES, CURRENCY_WORDS, Quantity, find_quantities
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
    if low.startswith(("u.s", "us ")) and "dollar" in low:
        return "USD"
    return CURRENCY_WORDS.get(low) or CURRENCY_WORDS.get(low.rstrip("s"))


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


def subject_of(tokens: list[Token], names: list[Name], q_i: int, clause: tuple[int, int]) -> Name | None:
    """The name the sentence's structure makes the subject of a quantity, or None.

    The name must stand in the quantity's clause before it and be followed (through an adverb or an
    auxiliary) by a verb, or own the noun next to the quantity ("X's 10 percent stake").
    """
    a, _b = clause
    for nm in reversed([n for n in names if a <= n.i and n.j <= q_i]):
        k = nm.j
        if k < q_i and tokens[k].text == "(":  # "Harmony Intelligent Mobility Alliance (HIMA) delivered"
            k = next((m + 1 for m in range(k, q_i) if tokens[m].text == ")"), k)
        if k < len(tokens) and tokens[k].low in ("'s", "’s") and k + 1 <= q_i:
            return nm
        while k < q_i and ("ADV" in tokens[k].pos or tokens[k].low in ("also", "has", "have", "had", "will")):
            k += 1
        if k < q_i and (tokens[k].verb or "VERB" in tokens[k].pos and tokens[k].low.endswith("ed")):
            return nm
        if k < len(tokens) and tokens[k].text == ",":  # "Changan, through the Avatr brand, invested ..."
            rest = tokens[k + 1 : q_i]
            commas = [t for t in rest if t.text == ","]
            if commas and any(t.verb for t in rest[rest.index(commas[-1]) :]):
                return nm
    return None


def _measure(tokens: list[Token], q: Quantity, clause: tuple[int, int]) -> str | None:
    a, b = clause
    if q.j < b and tokens[q.j].kind == "word" and tokens[q.j].noun and q.kind in ("percent", "money"):
        return tokens[q.j].lemma
    for k in range(q.i - 1, a - 1, -1):
        if tokens[k].verb or ("VERB" in tokens[k].pos and tokens[k].low.endswith(("ed", "s"))):
            if tokens[k].lemma not in STOPWORDS and tokens[k].lemma != "be":
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
    a, b = clause
    for k in range(a, b):
        t = tokens[k]
        if is_month(t.low) and t.cap and not (q.i <= k < q.j):
            return t.text
        if t.low in _PERIOD_WORDS and k > a and tokens[k - 1].low in ("first", "second", "third", "fourth", "last"):
            return f"{tokens[k - 1].text} {t.text}"
    for other in quantities:
        if other is not q and other.kind in ("year", "date") and a <= other.i < b:
            return other.text
    return None


def _fact_id(source: str, start: int, end: int, role: str | None) -> str:
    return "f-" + hashlib.sha1(f"{source}\0{start}\0{end}\0{role}".encode()).hexdigest()[:16]


def sentence_facts(source: str, sentence: str, offset: int) -> list[Fact]:
    """The facts of one sentence (offsets in document coordinates)."""
    tokens = tokenize(sentence, offset)
    quantities = find_quantities(sentence, offset, tokens)
    if not quantities:
        return []
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
                    Fact(id=_fact_id(source, q.start, q.end, role), text=q.text, start=q.start, end=q.end,
                         value=value, **{**base, "role": role})  # fmt: skip
                )
            continue
        out.append(
            Fact(id=_fact_id(source, q.start, q.end, None), text=q.text, start=q.start, end=q.end,
                 value=q.value, low=q.low, high=q.high, **base)  # fmt: skip
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
    out: list[Fact] = []
    for start, end in sentence_spans(text):
        out.extend(sentence_facts(source, text[start:end], start))
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
    return [f for f in facts if low in (f.subject or "").lower() or low in (f.object or "").lower() or low in f.sentence.lower()]
