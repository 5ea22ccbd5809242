"""Extracting names: people, organisations and places the question does not already name.

A name scores for standing next to the question's words, for being the subject of the question's
verb ("Which company invested ...?"), for a title or a speech verb beside it when a person is asked,
and for a place preposition before it when a place is asked. "What does X stand for?" is read from
"Long Name (X)".
"""

from __future__ import annotations

import re

from bot.engine.evidence import Sentence
from bot.engine.question import Question
from bot.engine.spans import Candidate, aliases, anchors, proximity, span
from bot.engine.vocabulary import PERSON_NOUNS
from bot.facts import clause_bounds, subject_of
from bot.language.tokens import STOPWORDS, TITLES, Token, is_month, key

PLACE_PREPS = frozenset({"in", "at", "from", "near", "to", "across", "into", "outside", "inside", "throughout"})
PERSON_CUES_BEFORE = frozenset(
    "mr mrs ms dr prof sen rep gov president secretary minister senator governor judge coach captain "
    "general director chairman professor officer agent".split()
)
PERSON_CUES_AFTER = frozenset("said says told added wrote asked replied explained noted argued according".split())


def person_like(toks: list[Token], i: int, j: int) -> bool:
    """A name a person bears: after a title ("Mr.", "Secretary") or before a speech verb ("... said")."""
    before = toks[i - 1].low.rstrip(".") if i > 0 else ""
    inside = toks[i].low.rstrip(".")
    after2 = toks[j + 1].low if j + 1 < len(toks) and toks[j].text == "," else ""
    return (
        inside in PERSON_CUES_BEFORE
        or before in PERSON_CUES_BEFORE
        or speaker(toks, i, j)  # '"...," said Mr. X', "X said"
        or (after2 in ("a", "the", "who"))
        or (bool(after2) and toks[j + 1].lemma in PERSON_NOUNS)  # "Ann Berg, journalist and author"
    )


def speaker(toks: list[Token], i: int, j: int) -> bool:
    """A name given as the one speaking ('"...," said Lang', "Lang said"): a person, never a place."""
    before = toks[i - 1].low if i > 0 else ""
    after = toks[j].low if j < len(toks) else ""
    return (before in PERSON_CUES_AFTER and i >= 2 and toks[i - 2].kind == "punct") or after in PERSON_CUES_AFTER


DATELINE_DASHES = frozenset({"—", "–", "--", "-"})
ORIGIN_NOUNS = frozenset({"nationality", "citizenship", "origin", "ethnicity", "descent"})
DEMONYM_ENDINGS = ("ish", "ese", "ian", "an", "ch", "i", "ic")
"""Endings of the adjectives that answer "what nationality" ("French", "Chinese", "Italian")."""
_POSSESSIVE = frozenset({"'s", "’s", "'", "’"})


def _possessor(toks: list[Token], i: int) -> str | None:
    """The name whose possessive stands right before token ``i`` ("Acme's [Nova]"), or None."""
    if i >= 2 and toks[i - 1].low in _POSSESSIVE and toks[i - 2].cap:
        return toks[i - 2].text
    return None


def _head_owners(q: Question) -> set[str]:
    """Keys of the names that own the asked noun in the question ("which [Acme] brands", "Acme's brands")."""
    toks = q.tokens
    for h, t in enumerate(toks):
        if q.head and t.lemma == q.head and h >= 1:
            while h >= 2 and toks[h - 1].kind == "word" and not toks[h - 1].cap and toks[h - 1].noun:
                h -= 1  # "the Joneses' car brand": past the nouns of the compound
            k = h - 1 if toks[h - 1].low not in _POSSESSIVE else h - 2
            return _name_run(toks, k) if k >= 0 and toks[k].cap and toks[k].low not in ("which", "what") else set()
    return set()


def _name_run(toks: list[Token], k: int) -> set[str]:
    """Keys of the capitalised words ending at token ``k`` ("Halden Mill" of "Halden Mill's")."""
    out = set()
    while k >= 0 and toks[k].cap and toks[k].kind == "word" and toks[k].low not in STOPWORDS and len(out) < 4:
        out.add(toks[k].key)
        k -= 1
    return out


_TITLE_KEYS = frozenset(key(t) for t in TITLES)
_PREP_WH = re.compile(r"\s*(from|to|with|by|for|against|of|about)\s+(?:who|whom)\b", re.I)
"""A question asking for the person of a preposition ("From whom?", "With who did she go?")."""

AUTHOR = 0.4
"""Bonus of a name whose possessive leads to the work the question names ("Verne's novel “X”")."""


def _owns_asked(q: Question, toks: list[Token], j: int) -> bool:
    """Whether a name ending at ``j`` owns, a few words on, a name the question asks about."""
    if j >= len(toks) or toks[j].low not in _POSSESSIVE:
        return False
    works = set()
    for n in q.names:  # the work asked about, not a place it is placed in ("supported him in Iowa")
        before = q.text[: q.text.find(n)].split()[-1:]
        if not (before and before[0].lower() in PLACE_PREPS | {"on", "of"}):
            works |= {key(w) for w in n.split()}
    return any(t.key in works for t in toks[j + 1 : j + 8] if t.cap)


DESCRIBES = 0.4
"""Bonus of a place name that modifies a noun right before the question's names ("Riverside mills Acme")."""


def _describes_asked(q: Question, toks: list[Token], j: int) -> bool:
    """Whether one or two common nouns after a name lead straight to one of the question's names."""
    k = j
    while k < len(toks) and k - j < 2 and toks[k].kind == "word" and not toks[k].cap and toks[k].noun:
        k += 1
    return j < k < len(toks) and toks[k].cap and toks[k].key in q.name_keys


OWNED = 0.5
"""Bonus of a name written right after the asked owner's possessive ("Acme's Nova" for "Acme's brand")."""


def owned_names(q: Question, sentences: list[Sentence]) -> list[Candidate]:
    """Names a sentence gives as the question's owner's own ("Acme's Nova" for "What is Acme's brand called?")."""
    owners = _head_owners(q)
    if not owners or q.atype not in ("name", "entity") or q.head in PERSON_NOUNS:
        return []
    out = []
    for s in sentences:
        toks = s.parsed.tokens
        for nm in s.parsed.names:
            owner = _possessor(toks, nm.i)
            if owner is not None and _name_run(toks, nm.i - 2) == owners:
                text, start, end = span(s, nm.i, nm.j)
                out.append(Candidate(text, start, end, s, s.score + OWNED, "name"))
    return sorted(out, key=lambda c: -c.score)


def _initials(text: str) -> str:
    """The initials of a name's capitalised words ("Old Pilots Guild" -> "opg")."""
    return "".join(w[0] for w in text.split() if w[:1].isupper()).lower()


def expansion_keys(q: Question, s: Sentence) -> set[str]:
    """Keys of the words of a sentence's names that spell out an abbreviation of the question ("OPG")."""
    short = {n.lower() for n in q.names if n.isupper() and 2 <= len(n) <= 6}
    if not short:
        return set()
    return {key(w) for nm in s.parsed.names if _initials(nm.text) in short for w in nm.text.split()}


def _verb_subject(q: Question, s: Sentence, where: list[int]) -> object | None:
    """The name the sentence makes the subject of the question's verb ("Changan, through X, invested")."""
    toks, tags = s.parsed.tokens, s.parsed.tags
    verbs = [i for i in where if tags[i] == "VERB"] or [i for i in where if "VERB" in toks[i].pos]
    if not verbs:
        return None
    v = verbs[0]
    return subject_of(toks, s.parsed.names, v + 1, clause_bounds(toks, v, v + 1))


def name_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """Names in a sentence that the question does not already give, scored for the asked type."""
    toks, where = s.parsed.tokens, anchors(q, s)
    asked = {key(w) for n in q.names for w in n.split()} | q.keys
    subject = _verb_subject(q, s, where) if q.subject_wh else None
    asked_short = {n.lower() for n in q.names if n.isupper() and 2 <= len(n) <= 6}
    owners = _head_owners(q)
    m = _PREP_WH.match(q.text)
    asked_prep = m.group(1).lower() if m else None
    out = []
    for nm in s.parsed.names:
        words = {key(w) for w in nm.text.split()}
        if (words & asked and not (words - asked)) or aliases(s, nm) & asked:
            continue  # the question's own name, or its long form ("Andean Fruit Exporters (AFE)")
        if any(is_month(w) for w in words):
            continue
        if _initials(nm.text) in asked_short:
            continue  # "Old Pilots Guild" is the question's own "OPG"
        score = s.score + 0.3 * proximity(nm.i, nm.j, where, q, s)
        before = toks[nm.i - 1].low if nm.i > 0 else ""
        if q.atype == "place":
            score += 0.15 if before in PLACE_PREPS else -0.05
            if _describes_asked(q, toks, nm.j):
                score += DESCRIBES  # "Riverton millers Alder and Birch": where the asked names are from
            if person_like(toks, nm.i, nm.j):
                score -= 0.25  # '"...," said Lang' names a person, not a place
        if q.atype == "person" and before in PLACE_PREPS - {"to", "from"}:
            score -= 0.1
        if q.atype in ("person", "name", "list"):
            score += 0.12  # a proper name is the natural answer to who/which-company questions
        if q.head and any(t.key == key(q.head) for t in toks[max(0, nm.i - 4) : nm.i]):
            score += 0.25  # "rivals such as X", "the automaker X"
        elif q.head and any(toks[k].key == key(q.head) for k in range(nm.i, nm.j)):
            score += 0.35  # "Which alliance?" - "Harmony Intelligent Mobility Alliance"
        if q.atype == "person" and _owns_asked(q, toks, nm.j):
            score += AUTHOR  # "Who wrote X?" - "Verne's novel “X”"
        if asked_prep and before == asked_prep:
            score += 0.3  # "From whom?" - "a note from Ada Pike"
        if q.subject_wh and before == "by" and nm.i >= 2 and toks[nm.i - 2].key in q.keys:
            score += 0.15  # "built by X" answers "Who built ...?"
        if q.atype == "person" and person_like(toks, nm.i, nm.j):
            score += 0.12
        if subject is not None and getattr(subject, "i", -1) == nm.i:
            score += 0.25  # "Which company invested ...?" - the subject of "invested"
        if nm.i >= 2 and toks[nm.i - 1].text == "(" and any(o.j == nm.i - 1 for o in s.parsed.names):
            score -= 0.2  # "Harmony Intelligent Mobility Alliance (HIMA)": the short form is the alias
        elif nm.i >= 1 and toks[nm.i - 1].text == "(" and nm.j < len(toks) and toks[nm.j].text == ")":
            score -= 0.2  # "(Agency) --": a dateline or an aside, not what the sentence says
        shared = words & asked - {key(q.head or "")} - _TITLE_KEYS  # "Mr. Quill" shares nothing with "Mr. Vale"
        if shared & q.name_keys or any(
            t.key in shared and "NOUN" not in t.pos for t in toks[nm.i : nm.j]
        ):  # fmt: skip
            score -= 0.3  # "Tern Engines" does not answer a question about Tern (but it may be about "engines")
        if nm.i == 0 and nm.j < len(toks) and toks[nm.j].text in DATELINE_DASHES:
            score -= 0.3  # "BERGEN —": where the story was filed, not what it says
        if q.head in ORIGIN_NOUNS:
            score += 0.3 if nm.j - nm.i == 1 and nm.text.lower().endswith(DEMONYM_ENDINGS) else -0.1
        owner = _possessor(toks, nm.i)
        if owner is not None and key(owner) in owners:
            score += 0.2  # "Acme's Nova" answers "which Acme brands"
        elif nm.j + 1 < len(toks) and toks[nm.j].low in _POSSESSIVE and toks[nm.j + 1].cap:
            score -= 0.15  # "Zenith's Orbit": Zenith owns the answer, it is not one
        text, start, end = span(s, nm.i, nm.j)
        out.append(Candidate(text, start, end, s, score, "name"))
    return out


# -- phrases ----------------------------------------------------------------------------------------


def acronym_candidates(q: Question, s: Sentence) -> list[Candidate]:
    """What an abbreviation stands for: "Long Name (ABC)" or "ABC (Long Name)"."""
    toks, out = s.parsed.tokens, []
    target = q.acronym.lower()
    for i, t in enumerate(toks):
        if t.low != target:
            continue
        if 0 < i < len(toks) - 1 and toks[i - 1].text == "(" and toks[i + 1].text == ")":
            a = _expansion_start(toks, i - 1, len([c for c in q.acronym if c.isalpha()]))
            if a is not None:
                text, start, end = span(s, a, i - 1)
                out.append(Candidate(text, start, end, s, s.score + 0.6, "name"))
        if i + 2 < len(toks) and toks[i + 1].text == "(":
            nm = next((n for n in s.parsed.names if n.i == i + 2), None)
            if nm is not None:
                text, start, end = span(s, nm.i, nm.j)
                out.append(Candidate(text, start, end, s, s.score + 0.6, "name"))
    return out


def _expansion_start(toks: list[Token], end: int, letters: int) -> int | None:
    """Start of the words before ``end`` whose capitals spell an abbreviation ("Base Realignment and Closure")."""
    k, caps = end, 0
    while k > 0 and caps < letters:
        t = toks[k - 1]
        if t.cap:
            caps += 1
        elif t.low not in ("and", "of", "for", "the", "&", "de", "on", "in"):
            break
        k -= 1
    return k if caps == letters or (caps >= 2 and caps >= letters - 1) else None


_COPULA_DEF = ("is", "was", "are", "were")


def defines(q: Question) -> str | None:
    """The name a "Who/What is <name>?" question asks to describe, or None."""
    toks = [t for t in q.tokens if t.kind != "punct"]
    if len(toks) < 3 or toks[0].low not in ("who", "what") or toks[1].low not in _COPULA_DEF:
        return None
    rest = " ".join(t.text for t in toks[2:])
    return rest if q.names and rest == q.names[0] else None


def definition_candidates(q: Question, s: Sentence, name: str) -> list[Candidate]:
    """What a sentence says a name is.

    A title before it ("festival promoter Artie Kornfeld"), an apposition ("X, a research fellow at Y,")
    or a copula ("X is the head of Y").
    """
    toks, out = s.parsed.tokens, []
    words = {key(w) for w in name.split()}
    for nm in s.parsed.names:
        if not ({key(w) for w in nm.text.split()} & words):
            continue
        # a title before the name: lower-case words right before it ("folk singer Richie Havens")
        end_i = nm.i - 1 if nm.i >= 2 and toks[nm.i - 1].text == ")" else nm.i  # "(festival co-creator) Mike Lang"
        a = end_i
        while a > 0 and end_i - a < 4 and toks[a - 1].kind == "word" and not toks[a - 1].stop:
            if toks[a - 1].cap and not (a - 1 == 0 or toks[a - 2].text in (":", "(", '"', "“")):
                break  # another name, not a title ("Folk singer" opens its line, so it counts)
            a -= 1
        if a < end_i:
            text, start, end = span(s, a, end_i)
            out.append(Candidate(text, start, end, s, s.score + 0.45, "phrase"))
        # an apposition or a copula after it: "X, a research fellow at Y," / "X is the head of Y"
        j = nm.j
        if j < len(toks) and (toks[j].text == "," or toks[j].low in _COPULA_DEF):
            b = j + 1
            while b < len(toks) and b - j <= 10 and toks[b].text not in (",", ";", ".", ")"):
                b += 1
            start_k = j + 1
            if start_k < b and toks[start_k].low in ("a", "an", "the") and b - start_k >= 2:
                text, start, end = span(s, start_k, b)
                out.append(Candidate(text, start, end, s, s.score + 0.4, "phrase"))
    return out
