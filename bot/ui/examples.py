"""Example questions for the empty chat, drawn from the indexed facts.

An example is built only from fixed template words and words copied as written from the fact's
sentence (a verb as written, the counted noun as written, names, the period as written), so no word
form is ever made up; a fact that does not fit a template gives no example. Every example is
checked once more against that rule before it is shown (drop one rather than show a broken one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.models import Fact

MAX_EXAMPLES = 4
_WORD = re.compile(r"[^\W\d_](?:[^\W_]|['’-][^\W\d_])*")
# Every word a template may add; the rest of an example comes from the document.
TEMPLATE_WORDS = frozenset(
    {"how", "many", "much", "were", "was", "by", "in", "on", "at", "during", "for", "the", "of"}
    | {"what", "is", "s", "do", "does", "documents", "say", "about"}
)
_PREPOSITIONS = ("in", "during", "for", "on", "at", "by", "since")


def _words(text: str) -> list[str]:
    return [m.group(0) for m in _WORD.finditer(text)]


def _name(text: str | None) -> str | None:
    """A name usable in a question: starts with a capital letter, no digits or brackets."""
    if not text:
        return None
    text = " ".join(text.split())
    if not text[:1].isupper() or re.search(r"[\d()\[\]{}<>“”\"]", text) or len(text) > 60:
        return None
    return text


def _phrase(sentence: str, value: str | None, preps: Sequence[str] = _PREPOSITIONS) -> str:
    """`` in November`` / `` in the third quarter`` exactly as the sentence has it, else empty."""
    if not value:
        return ""
    pattern = rf"\b({'|'.join(preps)})\s+((?:the\s+)?{re.escape(value)})\b"
    m = re.search(pattern, sentence, re.IGNORECASE)
    return f" {m.group(1).lower()} {m.group(2)}" if m else ""


def _past_verb(sentence: str, measure: str | None) -> str | None:
    """The regular past form (``-ed``) of the measured verb as the sentence writes it."""
    if not measure or not measure.isalpha():
        return None
    stem = measure.lower()[: max(4, len(measure) - 1)]
    for word in _words(sentence):
        low = word.lower()
        if low.startswith(stem) and low.endswith("ed") and low.isalpha() and word.islower():
            return word
    return None


def _counted_noun(quantity_text: str) -> str | None:
    """The plural noun a count is of, as written (``vehicles`` in ``81,864 vehicles``)."""
    words = _words(quantity_text)
    if not words:
        return None
    noun = words[-1]
    if noun.islower() and noun.isalpha() and noun.endswith("s") and len(noun) > 3:
        return noun
    return None


def grounded(question: str, fact: Fact) -> bool:
    """True when every word of ``question`` is a template word or is written in the fact's sentence or names."""
    allowed = {w.lower() for w in _words(" ".join(filter(None, [fact.sentence, fact.subject, fact.object])))}
    return all(w.lower() in TEMPLATE_WORDS or w.lower() in allowed for w in _words(question))


def fact_question(fact: Fact) -> str | None:
    """Phrase a question whose answer is this fact, from words the document itself uses (None if none fits).

    Examples of what the templates give (all words but the template ones come from the sentence):
    "How many vehicles were delivered by Acme in November?", "How much was invested by Acme?",
    "What is Acme's stake in Globex?".
    """
    subject = _name(fact.subject)
    if subject is None or fact.role or fact.approximate:
        return None
    sentence = fact.sentence
    when = _phrase(sentence, fact.period)
    where = _phrase(sentence, _name(fact.object), ("in", "of"))
    verb = _past_verb(sentence, fact.measure)
    question = None
    if fact.kind == "count" and verb:
        noun = _counted_noun(fact.quantity_text)
        if noun:
            question = f"How many {noun} were {verb} by {subject}{where}{when}?"
    elif fact.kind == "money" and verb:
        question = f"How much was {verb} by {subject}{where}{when}?"
    elif fact.kind in ("percent", "money", "count") and fact.measure and fact.measure.isalpha():
        measure = fact.measure.lower()
        if re.search(rf"\b{re.escape(measure)}\b", sentence):  # a noun as written: "stake", "revenue"
            question = f"What is {subject}'s {measure}{where}{when}?"
    if question is None or not grounded(question, fact):
        return None
    return question


def example_questions(facts: Sequence[Fact], n: int = MAX_EXAMPLES) -> list[str]:
    """Draw up to ``n`` example questions from the indexed facts, one per subject.

    Facts with a period or an object come first; when the facts give fewer than ``n``
    questions, "What do the documents say about <subject>?" fills up with other subjects.
    """
    ranked = sorted(facts, key=lambda f: (-(bool(f.period) + bool(f.object)), f.source, f.start))
    out: list[str] = []
    subjects: set[str] = set()
    for fact in ranked:
        q = fact_question(fact)
        key = (fact.subject or "").lower()
        if q and key not in subjects and q not in out:
            out.append(q)
            subjects.add(key)
        if len(out) >= n:
            return out
    for fact in sorted(facts, key=lambda f: (f.source, f.start)):
        name = _name(fact.subject)
        if name and name.lower() not in subjects and len(out) < n:
            subjects.add(name.lower())
            out.append(f"What do the documents say about {name}?")
    return out
