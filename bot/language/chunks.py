"""Rough parts of speech and phrase chunks, from the lexicon and a few context rules.

The lexicon (:mod:`lemminflect`) says which parts of speech a word *can* take; a handful of rules pick
one from its neighbours (after a determiner or possessive a word is a noun or adjective, after "to"
or an auxiliary it is a verb, a capitalised word inside a sentence is a name). Noun phrases are runs
of determiners, numbers, adjectives and nouns that end in a noun; an ``of`` between two noun phrases
joins them ("fragments of broken bottles"). Good enough to propose answer spans, not a parser.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from bot.language.quantities import NUMBER_WORDS
from bot.language.tokens import AUXILIARIES, STOPWORDS, Token

DETERMINERS = frozenset("a an the this that these those each every some any no another".split())
POSSESSIVES = frozenset("his her its their our my your whose".split())
PRONOUNS = frozenset("i you he she it we they who which that there".split())
PREPOSITIONS = frozenset(
    "of in on at by for with from into onto upon about over under between among through during before after "
    "since until against without within along across behind beyond toward towards near like per via".split()
)
CONJUNCTIONS = frozenset("and or but nor so yet while although because if when whereas unless".split())
QUANTIFIERS = frozenset("many much more most few several all both half".split())


@dataclass(frozen=True, slots=True)
class Chunk:
    """A phrase: tokens ``i`` to ``j`` (exclusive) of kind ``NP`` or ``VP``."""

    i: int
    j: int
    kind: str


def tag(tokens: list[Token]) -> list[str]:
    """One coarse tag per token: DET NUM ADJ NOUN PROPN VERB AUX ADV ADP CONJ PRON PUNCT OTHER."""
    tags: list[str] = []
    for k, t in enumerate(tokens):
        prev = tags[-1] if tags else ""
        prev_low = tokens[k - 1].low if k else ""
        low = t.low
        if t.kind == "punct" or t.kind == "sym":
            tags.append("PUNCT")
        elif t.kind == "num":
            tags.append("NUM")
        elif low in DETERMINERS or low in POSSESSIVES or (low in ("'s", "’s") and prev in ("NOUN", "PROPN")):
            tags.append("DET")
        elif low in AUXILIARIES:
            tags.append("AUX")
        elif low in PREPOSITIONS or low == "to":
            tags.append("ADP")
        elif low in CONJUNCTIONS:
            tags.append("CONJ")
        elif low in PRONOUNS:
            tags.append("PRON")
        elif low in QUANTIFIERS:
            tags.append("ADJ")
        elif low in STOPWORDS:
            tags.append("OTHER")
        elif all(p in NUMBER_WORDS for p in low.split("-")):  # "seven", "twenty-three"
            tags.append("NUM")
        elif t.cap and ((k > 0 and prev != "PUNCT") or not t.pos):
            tags.append("PROPN")
        elif not t.pos:
            tags.append("NOUN")
        else:
            tags.append(_choose(t, prev, prev_low))
    return tags


_NOT_PLURAL = frozenset("sales news series sports arms goods earnings savings means species physics economics".split())


def _plural(low: str) -> bool:
    return low.endswith("s") and not low.endswith(("ss", "us", "is")) and low not in _NOT_PLURAL


def _choose(t: Token, prev: str, prev_low: str) -> str:
    pos = t.pos
    if len(pos) == 1:
        only = next(iter(pos))
        return {"AUX": "AUX", "PROPN": "PROPN"}.get(only, only if only in ("NOUN", "VERB", "ADJ", "ADV") else "NOUN")
    if prev in ("DET", "ADJ", "NUM") and ("NOUN" in pos or "ADJ" in pos):
        return "NOUN" if "NOUN" in pos and not ("ADJ" in pos and t.low.endswith(("ful", "ous", "ive", "al"))) else "ADJ"
    if prev_low == "to" and "VERB" in pos:
        return "VERB"
    if prev in ("AUX", "PRON") and "VERB" in pos:
        return "VERB"
    if prev in ("NOUN", "PROPN") and "VERB" in pos and t.low.endswith(("ed", "s")):
        return "VERB"
    if prev == "NOUN" and "VERB" in pos and t.low == t.lemma and _plural(prev_low):
        return "VERB"  # "ferries use", "rivers meet": a plural noun and the verb that agrees with it
    if "NOUN" in pos:
        return "NOUN"
    if "ADJ" in pos:
        return "ADJ"
    if "VERB" in pos:
        return "VERB"
    return "ADV" if "ADV" in pos else "NOUN"


_NP_INNER = frozenset({"DET", "NUM", "ADJ", "NOUN", "PROPN"})


def noun_phrases(tokens: list[Token], tags: list[str] | None = None, join_of: bool = True) -> list[Chunk]:
    """Noun phrases (and ``NP of NP`` joins) of a token list."""
    tags = tags or tag(tokens)
    out: list[Chunk] = []
    k, n = 0, len(tokens)
    while k < n:
        if tags[k] not in _NP_INNER or (tags[k] == "DET" and k + 1 < n and tags[k + 1] not in _NP_INNER):
            k += 1
            continue
        j = k
        while j < n and (tags[j] in _NP_INNER or (tokens[j].text == "-" and j + 1 < n and tags[j + 1] in _NP_INNER)):
            j += 1
        end = j
        while end > k and tags[end - 1] in ("DET", "ADJ") and not (tags[end - 1] == "ADJ" and end - k == 1):
            end -= 1
        if end > k:
            out.append(Chunk(k, end, "NP"))
        k = max(j, k + 1)
    if join_of:
        joined = []
        for a, b in itertools.pairwise(out):
            if b.i == a.j + 1 and tokens[a.j].low == "of":
                joined.append(Chunk(a.i, b.j, "NP"))
        out.extend(joined)
    return out


def verb_phrases(tokens: list[Token], tags: list[str] | None = None, nps: list[Chunk] | None = None) -> list[Chunk]:
    """A verb and what follows it up to the end of its object ("reunited the magazine with its website")."""
    tags = tags or tag(tokens)
    nps = nps if nps is not None else noun_phrases(tokens, tags, join_of=False)
    starts = {c.i: c for c in nps}
    out: list[Chunk] = []
    for k, tg in enumerate(tags):
        if tg != "VERB":
            continue
        j = k + 1
        while j < len(tokens) and tags[j] == "ADV":
            j += 1
        if j in starts:
            j = starts[j].j
            if j + 1 < len(tokens) and tags[j] == "ADP" and (j + 1) in starts:
                j = starts[j + 1].j
        out.append(Chunk(k, j, "VP"))
    return out
