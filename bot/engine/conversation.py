"""Conversation stage: fill in what a follow-up leaves out, from the previous question *and* answer.

"What about Seres?" after "How big is Changan's stake?" becomes "How big is Seres's stake?"; "Who did
he file an order against?" after the answer "Abdel Maguid Mahmoud" is asked about him; "And in US
dollars?" carries the previous question on. The retrieval query also takes the previous turn's words
at a low weight, and the previous answer's citation (document and offset) marks where the
conversation is, since follow-ups usually stay near it. Words of an earlier answer's *quoted
sources* are never used: only what the bot itself said.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.engine.question import Question, analyse
from bot.language.names import find_names
from bot.language.tokens import AUXILIARIES, STOPWORDS, WH_WORDS, tokenize

PRONOUNS = {
    "he": "person", "him": "person", "his": "person", "she": "person", "her": "person", "hers": "person",
    "it": "thing", "its": "thing", "they": "plural", "them": "plural", "their": "plural",
}  # fmt: skip
_WHAT_ABOUT = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(.+?)\s*\??\s*$", re.IGNORECASE)
_AND = re.compile(r"^\s*(?:and|also|then|so)\b[\s,]*(.*?)\s*\??\s*$", re.IGNORECASE)
_PREP_TAIL = re.compile(r"^(in|on|for|of|with|at|from|to|by)\s+(.+)$", re.IGNORECASE)
_CITE = re.compile(r"\s*\[\d+\]")
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1, "former": 0, "latter": -1}
"""Which item of a listed previous answer "the first one", "the latter"... points at."""
ORDINAL_REF = re.compile(
    r"\bthe\s+(first|second|third|fourth|fifth|last)(?:\s+one|\s+of\s+(?:them|those|these|the\s+\w+))\b"
    r"|\bthe\s+(former|latter)\b",
    re.IGNORECASE,
)
PREVIOUS_WEIGHT = 0.35
"""Weight of the previous turn's words in evidence ranking, relative to the question's own."""


@dataclass
class Turn:
    """One earlier exchange: the user's question and, when known, the bot's answer and its citation."""

    question: str
    answer: str | None = None
    source: str | None = None
    offset: int | None = None


@dataclass
class Resolved:
    """A question made self-contained, with what retrieval should also know."""

    text: str
    query: str
    previous: Turn | None = None
    extra_terms: dict[str, float] = field(default_factory=dict)
    near: tuple[str, int] | None = None
    followup: bool = False
    exclude: list[str] = field(default_factory=list)  # earlier answers a "what else?" does not want again
    pinned: bool = False  # the names filled in were pointed at ("the first one"), not guessed


def turns(history: Sequence[str | Mapping[str, Any]]) -> list[Turn]:
    """Pair a history (strings = user questions, or chat messages) into turns.

    Raises:
        TypeError: If an item is neither text nor a ``{"role", "content"}`` mapping.

    """
    out: list[Turn] = []
    for item in history:
        if isinstance(item, str):
            out.append(Turn(item))
            continue
        if not isinstance(item, Mapping):
            raise TypeError(f"history items must be text or role/content messages, not {type(item).__name__}")
        role, content = item.get("role", "user"), str(item.get("content") or "")
        if role == "assistant":
            if out and out[-1].answer is None:
                out[-1].answer = said(content)
                cites = item.get("citations") or []
                if cites and isinstance(cites[0], Mapping) and "source" in cites[0]:
                    out[-1].source, out[-1].offset = str(cites[0]["source"]), int(cites[0].get("start") or 0)
        else:
            out.append(Turn(content))
    return out


NO_ANSWER = re.compile(r"(?i)\s*(?:(?:the\s+)?documents do not say|i can't tell for sure)")
"""How an earlier answer that answered nothing opens (a refusal or an abstention)."""


def said(content: str) -> str:
    """What an earlier answer said in its own words: a hedged guess without "Probably" and its quoted passage."""
    own = re.split(r"\s+—\s+the passages?:|[“\"]", content, maxsplit=1)[0]
    own = re.sub(r"^\s*Probably\s+", "", own)
    return _CITE.sub("", own).strip()


def _names(text: str) -> list[str]:
    return [n.text for n in find_names(tokenize(text), text)]


def is_followup(q: Question, text: str) -> bool:
    """Whether a question leans on the previous turn (a pronoun, ellipsis, "what about", too few words)."""
    low = text.lower()
    if _WHAT_ABOUT.match(text) or _AND.match(text):
        return True
    if ORDINAL_REF.search(text):
        return True
    words = [t.low for t in tokenize(text) if t.kind == "word"]
    if any(w in PRONOUNS or w in ("this", "that", "these", "those", "there", "then", "other", "else") for w in words):
        return True
    content = [w for w in words if w not in STOPWORDS and w not in WH_WORDS and w not in AUXILIARIES]
    return len(content) <= 1 or low.strip(" ?") in {"why", "how", "when", "where", "who", "what"}


def _replace_name(previous: str, new: str, prep: str | None) -> str:
    names = _names(previous)
    if not names:
        return f"{previous.rstrip(' ?')} {new}?"
    target = names[0]
    if prep:
        m = re.search(rf"\b{prep}\s+([A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)", previous)
        if m:
            target = m.group(1)
    return previous.replace(target, new, 1)


def _subject_for(pronoun_type: str, prev: Turn) -> str | None:
    """What a pronoun most likely refers to: the previous answer when it is a name, else its question's name."""
    answer_names = _names(prev.answer or "")
    q_names = _names(prev.question)
    if pronoun_type == "person":
        answer_names = [n for n in answer_names if not n.replace(".", "").isupper()]  # "he" is no "BBX"
        if not answer_names and re.match(r"(?i)\s*who\b", prev.question) and prev.answer:
            return None  # "Who is X's attorney general?" answered without a name: "he" is that unnamed person
        pool = answer_names[:1] + q_names
    elif pronoun_type == "plural":
        pool = ([" and ".join(answer_names[:3])] if len(answer_names) > 1 else []) + q_names
    elif re.match(r"(?i)\s*(?:what|which|who)\b", prev.question):
        pool = answer_names[:1] + q_names  # "What replaced the OAU?" - "The African Union." - "When was it founded?"
    else:
        pool = q_names + answer_names[:1]
    return pool[0] if pool else None


def resolve(text: str, history: Sequence[str | Mapping[str, Any]]) -> Resolved:
    """Make a question self-contained using the conversation so far.

    Args:
        text: The cleaned question.
        history: Earlier turns.

    Returns:
        The resolved question and retrieval hints.

    """
    past = turns(history)
    if not past:
        return Resolved(text, text)
    # Earlier follow-ups are resolved first (the last few turns), so "Where?" after "When was it
    # founded?" after "What replaced the OAU?" reads "Where was <the answer> founded?".
    for k in range(max(1, len(past) - MAX_CHAIN), len(past)):
        earlier = resolve_turn(past[k].question, past[k - 1])
        past[k] = Turn(earlier, past[k].answer, past[k].source, past[k].offset)
    prev = past[-1]
    return _resolved(text, prev)


MAX_CHAIN = 4
"""Earlier turns resolved in turn before the question."""
_WH = r"(?:who|whom|whose|what|which|when|where|why|how)"
_BARE_WH = re.compile(
    rf"^\s*(?:and\s+|so\s+|then\s+)?((?:from |to |in |at |for |with |by |of )?{_WH}"
    r"(?:\s+(?:many|much|long|old|far|often|one|ones|else|kind|type|year|time|exactly|about))?)"
    r"\s*(?:then|else|exactly)?[?.!\s]*$",
    re.IGNORECASE,
)


def resolve_turn(text: str, prev: Turn) -> str:
    """The self-contained form of one question, given the turn before it."""
    return _resolved(text, prev).text


_MORE = re.compile(
    r"^\s*(?:(?:and|also|so|then|ok|okay)\s*,?\s*)?(?:(?:what|who|where|anything|anyone|anybody|any|name)\s+)?"
    r"(?:else|another(?:\s+one)?|others?|more)?\s*(?:please)?\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_ELSE = re.compile(r"\b(?:else|another|other ones?|others)\b", re.IGNORECASE)


def _resolved(text: str, prev: Turn) -> Resolved:
    q = analyse(text)
    if not is_followup(q, text):
        return Resolved(text, text, prev, near=_near(prev))
    again = prev.answer and _MORE.match(text) and re.search(r"\w", text)
    if again and not NO_ANSWER.match(prev.answer or ""):
        # "and?", "who else?", "name another": the previous question again, without its answer
        extra = {t.key: PREVIOUS_WEIGHT for t in tokenize(prev.question) if t.content}
        return Resolved(prev.question, prev.question, prev, extra, _near(prev), True, [prev.answer or ""])
    resolved, pinned = text, False
    m = _WHAT_ABOUT.match(text)
    a = _AND.match(text)
    bare = _BARE_WH.match(text)
    asks_again = a and re.fullmatch(r"(?i)(?:in|on|at|for|from|by|during)\s+(?:which|what)\s+\w+", a.group(1) or "")
    if bare or asks_again:
        wh = bare.group(1) if bare else a.group(1)
        resolved = _swap_wh(_without_asked(prev.question, wh), wh)
    elif m:
        tail = m.group(1)
        prep = _PREP_TAIL.match(tail)
        resolved = _replace_name(prev.question, prep.group(2) if prep else tail, prep.group(1) if prep else None)
    elif a and a.group(1) and not re.match(r"(?i)(who|what|which|when|where|why|how|is|are|was|were|did|does)\b",
                                           a.group(1)):  # fmt: skip
        tail = a.group(1)
        prep = _PREP_TAIL.match(tail)
        if prep and _names(tail):
            resolved = _replace_name(prev.question, prep.group(2), prep.group(1))
        else:
            resolved = f"{prev.question.rstrip(' ?')} {tail}?"
    elif ORDINAL_REF.search(text) and _listed(prev):
        resolved = _pick_listed(text, prev)
        pinned = resolved != text
    else:
        resolved = _substitute_pronouns(text, prev)
    if resolved is not text and resolved != text:
        resolved = _substitute_pronouns(resolved, prev)
    extra: dict[str, float] = {}
    for t in tokenize(prev.question + " " + (prev.answer or "")):
        if t.content:
            extra.setdefault(t.key, PREVIOUS_WEIGHT)
    query = resolved if resolved != text else f"{text} {prev.question} {prev.answer or ''}".strip()
    exclude = [prev.answer] if prev.answer and _ELSE.search(text) else []  # "what else is it called?"
    return Resolved(resolved, query, prev, extra, _near(prev), followup=True, exclude=exclude, pinned=pinned)


def _swap_wh(previous: str, wh: str) -> str:
    """Put a bare question word in place of the previous question's ("Where?" -> "Where was it founded?").

    Without a question word to swap, the new one is put before the previous question ("How many? Do they
    have a leader?").
    """
    m = re.search(r"\b(?:who|whom|whose|what|which|when|where|why|how)\b(?:\s+(?:many|much)\s+[a-z]+|"
                  r"\s+(?:many|much|long|old|far|often))?", previous, re.IGNORECASE)  # fmt: skip
    if m and not re.search(r"\b(?:one|ones|else)\b", wh, re.I):
        if m.start() > 0:
            wh = wh.lower()
        return previous[: m.start()] + wh + previous[m.end() :]
    return f"{wh.rstrip(' ?')}? {previous}"


_TIME_ASK = re.compile(r"(?i)\b(?:when|month|year|day|date|time|week|quarter)\b")
_TIME_PHRASE = re.compile(
    r"(?i)\s+(?:in|on|during|since|by)\s+(?:(?:early|late|mid-?)\s*)?(?:January|February|March|April|May|June|July|"
    r"August|September|October|November|December|\d{4}|(?:the\s+)?(?:first|second|third|fourth|last)\s+quarter)\b"
)


def _without_asked(previous: str, wh: str) -> str:
    """The previous question without what the new one asks again ("... in November" for "And in which month?")."""
    return _TIME_PHRASE.sub("", previous) if _TIME_ASK.search(wh) else previous


def _near(prev: Turn) -> tuple[str, int] | None:
    return (prev.source, prev.offset or 0) if prev.source else None


def _listed(prev: Turn) -> list[str]:
    """The names a previous answer listed ("Alder, Birch and Cedar Mills"), when it listed more than one."""
    names = _names(prev.answer or "")
    return names if len(names) > 1 else []


def _pick_listed(text: str, prev: Turn) -> str:
    """The question with "the first one" / "the latter" replaced by that item of the previous answer's list."""
    items = _listed(prev)
    m = ORDINAL_REF.search(text)
    assert m is not None
    at = ORDINALS[(m.group(1) or m.group(2)).lower()]
    if at >= len(items):
        return text
    return text[: m.start()] + items[at] + text[m.end() :]


def _substitute_pronouns(text: str, prev: Turn) -> str:
    out = text
    for pronoun, kind in PRONOUNS.items():
        rx = re.compile(rf"\b{pronoun}\b", re.IGNORECASE)
        if not rx.search(out):
            continue
        ref = _subject_for(kind, prev)
        if not ref:
            continue
        possessive = pronoun in ("his", "its", "their", "hers") or (pronoun == "her" and _followed_by_noun(out, rx))
        out = rx.sub(f"{ref}'s" if possessive else ref, out, count=1)
        break
    return out


def _followed_by_noun(text: str, rx: re.Pattern[str]) -> bool:
    m = rx.search(text)
    if not m:
        return False
    rest = text[m.end() :].split()
    return bool(rest) and rest[0].lower() not in STOPWORDS and rest[0].lower() not in AUXILIARIES
