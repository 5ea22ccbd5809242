"""The grounded engine: question and history in, a cited answer in the bot's own words out.

    resolve (conversation) -> analyse (question) -> evidence -> compute | extract -> decide -> phrase -> check

Every engine shares this run: the generative ones take its :class:`Outcome` (the evidence sentences,
the tools' results and the findings) and only rewrite the *phrase* step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.engine import compute, summary
from bot.engine.conversation import resolve
from bot.engine.decide import MIN_SENTENCE, judge
from bot.engine.disagree import disagreement, rivals
from bot.engine.disfluency import corrected
from bot.engine.evidence import Sentence, gather
from bot.engine.explain import (
    REASON_OPENERS,
    explain,
    following,
    instead,
    leans_on_previous,
    reason_in,
    wants_explanation,
)
from bot.engine.extract import Candidate, candidates
from bot.engine.extract_names import owned_names
from bot.engine.index import IndexView
from bot.engine.lists import coordinated, count_listed
from bot.engine.phrase import ABSTAIN_LEAD, Cites, finish, join_list, refusal, span_answer, yes_no
from bot.engine.polarity import polarity, statement
from bot.engine.question import Question, analyse
from bot.engine.referent import opens_on_pronoun, preceding, referent
from bot.engine.spans import date_range, number_range, widen, with_preposition
from bot.engine.spelling import correct
from bot.engine.work import Work
from bot.guard import injection_spans
from bot.language.tokens import key, tokenize
from bot.models import Answer, Citation

TOP_SENTENCES = 4
"""Evidence sentences the extractor reads."""
TYPED_SENTENCES = 10
"""Sentences searched for a number or a date when the best ones give none of the asked kind."""
EVIDENCE_FOR_READERS = 6
"""Evidence sentences handed to a generative reader."""


@dataclass
class Outcome:
    """Everything the grounded run found: the answer, the evidence and plain-language findings."""

    answer: Answer
    evidence: list[Citation]
    findings: list[str] = field(default_factory=list)
    answer_type: str = "other"
    work: Work | None = None  # the state the run left (question, evidence, candidates): the verdict reads it


def run(index: IndexView, question: str, history: Sequence[str | Mapping[str, Any]] = ()) -> Outcome:
    """Answer a question from the documents alone.

    Args:
        index: The index (see :class:`bot.engine.index.IndexView`).
        question: A validated question.
        history: Earlier turns: user questions (text) or ``{"role", "content"[, "citations"]}`` messages.

    Returns:
        The outcome: the answer and the evidence it rests on.

    """
    asked = corrected(_without_instructions(question))  # "... vegetation, no sorry, carbon dioxide?" as corrected
    if asked.isupper():
        asked = asked.lower()  # "WHAT SHARE OF X DID Y BUY": capitals say nothing about names here
    resolved = resolve(correct(asked, index), [_corrected(h, index) for h in history])
    w = Work(index, question, resolved, analyse(resolved.text))
    w.q.soft_names = resolved.followup and resolved.text != asked and not resolved.pinned
    if w.q.soft_names:
        said = {t.key for t in tokenize(asked)}
        w.q.guessed = frozenset(t.key for t in w.q.terms if t.name and t.key not in said)
    if not any(ch.isalnum() for ch in asked):
        answer = w.answer(refusal("that: the question asks the assistant to do something, not about the documents"),
                          refused=True, kind="invalid")  # fmt: skip
        return Outcome(answer, [], [answer.text], "invalid")
    answer = _answer(w)
    evidence = list(answer.citations)
    if w.ev is not None:
        extra = Cites(list(evidence))
        for s in w.ev.top(EVIDENCE_FOR_READERS):
            extra.add(s)
        evidence = extra.items
    return Outcome(answer, evidence, w.findings, w.q.atype, w)


def _corrected(turn: str | Mapping[str, Any], index: IndexView) -> str | Mapping[str, Any]:
    """An earlier user question with its typos corrected too ("Brandi" of "Did Brandi speak?" is "Brandt")."""
    if isinstance(turn, str):
        return correct(corrected(turn), index)
    if isinstance(turn, Mapping) and turn.get("role", "user") == "user" and isinstance(turn.get("content"), str):
        return {**turn, "content": correct(corrected(turn["content"]), index)}
    return turn


def _without_instructions(question: str) -> str:
    """The question without sentences that instruct the assistant ("Ignore previous instructions ...")."""
    spans = injection_spans(question)
    for a, b in reversed(spans):
        question = question[:a] + question[b:]
    return " ".join(question.split())


def _answer(w: Work) -> Answer:
    q = w.q
    if q.atype == "summary":
        w.state(path="summary")
        return summary.summarize(w)
    computed = compute.try_compute(w)
    if computed is not None:
        w.state(path="derived" if computed.kind in ("derived", "conversion") else "compute")
        return computed
    w.ev = gather(w.index, q, w.resolved.query, w.resolved.extra_terms, w.resolved.near)
    top = w.ev.top(TOP_SENTENCES)
    found = candidates(q, top)
    if (q.numeric or q.atype in ("date", "time")) and not any(c.kind == "quantity" for c in found):
        docs = {s.record.source for s in top[:1]}
        further = [s for s in w.ev.top(TYPED_SENTENCES)[TOP_SENTENCES:] if s.record.source in docs]
        wider = candidates(q, further)  # "How old is X?": the age is further down the same document
        found = [c for c in wider if c.kind == "quantity"] + found
    owned = owned_names(q, w.ev.top(TYPED_SENTENCES))  # "What is Acme's brand called?" - "... Acme's Nova"
    if owned and not (found and found[0].start == owned[0].start and found[0].sentence is owned[0].sentence):
        found = [owned[0], *found]
    named = _pronoun_referent(w, top, found)  # "It was created ... to replace the OPG": what "it" is
    if named is not None:
        found = [named, *found]
    if w.resolved.exclude:
        found = [c for c in found if not _repeats(c.text, w.resolved.exclude)]
    best = found[0] if found else None
    w.state(found=found, path="span")
    verdict = judge(q, w.ev, best, lambda word: w.index.idf(key(word)) > 0, w.resolved.followup)
    if not verdict.ok and q.atype == "count" and not verdict.missing and verdict.disclosed and top:
        listed = top[0].matched & q.keys and top[0].score >= MIN_SENTENCE
        counted = count_listed(w, top) if listed else None  # no figure, but a list to count
        if counted is not None:
            w.state(path="count_list")
            return counted
    if not verdict.ok:
        return _refuse(w, verdict.why, quoted=None if verdict.disclosed else w.ev.sentences[0])
    if q.atype in ("yesno", "choice"):
        w.state(path="yesno")
        return _yes_no(w)
    if wants_explanation(q):
        why = explain(q, w.ev, top)
        if q.atype == "reason" and top and (why is None or not REASON_OPENERS.match(why.text)):
            nxt = following(w.index, w.ev, top[0])  # "Prices rose. Bakers attribute the rise to ..."
            cause = reason_in(top[0], q) or (reason_in(nxt) if nxt is not None else None)
            if cause is not None:
                cited = [top[0]] if cause.sentence is top[0] else [top[0], cause.sentence]
                w.state(claim=cause, path="reason")
                return w.answer(span_answer(cause.text, w.cites.marks(cited)), kind="explanation")
        verb_phrase = best is not None and q.atype == "action" and best.sentence.parsed.tags[
            next((k for k, t in enumerate(best.sentence.parsed.tokens) if t.start == best.start), 0)
        ] == "VERB"  # fmt: skip
        if why is not None and not verb_phrase and (
            best is None or best.kind != "phrase" or q.atype in ("reason", "manner", "action")
            or len(best.text.split()) < 3
        ):  # fmt: skip
            rather = instead(w.index, w.ev, why)
            if rather is not None:  # "X will not rely on Y. Instead, it will use Z"
                w.state(claim=rather, path="explanation")
                return w.answer(span_answer(rather.text, w.cites.marks([why.sentence, rather.sentence])),
                                kind="explanation")  # fmt: skip
            cited = [why.sentence]
            before = w.ev.neighbour(why.sentence, -1)
            if leans_on_previous(why) and before is not None:
                cited.insert(0, before)
            w.state(claim=why, path="explanation")
            return w.answer(span_answer(why.text, w.cites.marks(cited)), kind="explanation")
    if q.atype == "count" and (best is None or best.kind != "quantity" or not _counts_head(q, best)):
        counted = count_listed(w, top)
        if counted is not None:
            w.state(path="count_list")
            return counted
    if best is None:
        return _refuse(w, "")
    if q.atype == "list":
        w.state(path="list")
        return _list(w, found)
    if best.kind != "quantity":
        best = widen(best, place=q.atype == "place")
    if q.atype == "place" and q.wh == "where":
        best = with_preposition(best)
    if q.wh == "when" and best.kind == "quantity":
        best = date_range(best)
    elif best.kind == "quantity" and best.quantity is not None and best.quantity.kind in ("count", "duration"):
        best = number_range(best)  # "six to nine months", not "nine months"
    if q.atype == "count" and best.kind == "quantity" and (rest := compute.remainder_of_ratio(w, best)) is not None:
        w.state(path="compute")
        return rest  # "two of the 16 banks were taken" answers "how many were not taken": 16 − two
    others = rivals(q, best, found)
    if others:  # another document gives another value for the same thing: say both
        return disagreement(w, best, others)
    cited = [best.sentence, top[0]] if named is not None and best is named else [best.sentence]
    w.state(claim=best)
    return w.answer(span_answer(best.text, w.cites.marks(cited)))


def _pronoun_referent(w: Work, top: list[Sentence], found: list[Candidate]) -> Candidate | None:
    """The name a best sentence's opening pronoun stands for, unless that sentence names an answer itself."""
    if not top or not opens_on_pronoun(w.q, top[0]):
        return None
    if found and found[0].sentence is top[0] and found[0].kind == "name":
        return None
    assert w.ev is not None
    before = preceding(w.index, w.ev, top[0])
    return referent(w.q, top[0], before) if before is not None else None


def _repeats(text: str, earlier: list[str]) -> bool:
    """Whether a candidate says again what an earlier answer said ("what else?" wants something new)."""
    low = text.lower().strip()
    said = [e.lower().strip(" .") for e in earlier if e]
    return any(low and (low in e or e in low) for e in said)


def _counts_head(q: Question, c: Candidate) -> bool:
    """Whether a quantity counts the asked noun ("3 rivers" for "how many rivers")."""
    unit = c.quantity.unit if c.quantity is not None else None
    return bool(unit and q.head and key(unit) == key(q.head))


def _yes_no(w: Work) -> Answer:
    assert w.ev is not None
    s = statement(w.ev.top(TOP_SENTENCES)) or w.ev.sentences[0]
    marks = w.cites.marks([s])
    if w.q.options:
        low = s.text.lower()
        hits = [o for o in w.q.options if o.lower().split()[-1] in low]
        if len(hits) == 1:
            return w.answer(span_answer(hits[0], marks))
    said = polarity(w.q, s, w.ev.neighbour(s, -1))
    w.stated = said.stated
    if said.yes is None:  # the sentence neither states nor contradicts the claim: no verdict, show it
        text = f"{ABSTAIN_LEAD} The closest passage {marks}."
        w.findings.append(text)
        return w.answer(text, refused=True, kind="yesno")
    return w.answer(yes_no(said.yes, marks), kind="yesno")


def _list(w: Work, found: list[Candidate]) -> Answer:
    """The names coordinated with the best one in its sentence ("Nio, Xpeng, and Li Auto")."""
    best = found[0]
    s = best.sentence
    asked = w.q.name_keys | w.q.keys
    names = [n for n in s.parsed.names if not ({key(x) for x in n.text.split()} <= asked)]
    items = [best.text]
    at = next(
        (k for k, n in enumerate(names) if n.start <= best.start < n.end or best.start <= n.start < best.end), None
    )
    marks = w.cites.marks([s])
    if at is not None:
        group = coordinated(s, names, at)
        if len(group) > 1:  # the list as the sentence writes it ("A, the B and the C"), not re-joined
            a, b = group[0].start, group[-1].end
            text = s.record.text[a - s.record.start : b - s.record.start]
            w.state(claim=Candidate(text, a, b, s, best.score, "name"))
            return w.answer(finish(text, marks), kind="list")
        items = [n.text for n in group]
    return w.answer(finish(join_list(list(dict.fromkeys(items))), marks), kind="list")


def _refuse(w: Work, why: str, quoted: Sentence | None = None) -> Answer:
    w.state(path="refuse")
    text = refusal(why)
    if quoted is not None:
        text = f"{text} They state that it was not given [{w.cites.add(quoted)}]."
    elif w.ev is not None and w.ev.sentences:
        closest = w.ev.sentences[0]
        n = w.cites.add(closest)
        text = f"{text} The closest passage [{n}]."
    w.findings.append(text)
    return w.answer(text, refused=True)
