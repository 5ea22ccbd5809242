"""Features of an answer and its evidence: what the confidence model reads.

Each feature is a number computed from what the grounded run left on its :class:`~bot.engine.work.Work`
(the question, the ranked evidence, the candidates, the stated span and the route taken) and from the
answer itself. The signals that separate right from wrong answers (measured on held-out halves):

* **support** - how much of the question the answer's sentence (or its neighbour) states: every content
  word and name of the question, exactly or by lemma, weighted by rarity; and which rare ones are missing;
* **margins** - the best candidate over the runner-up, the best sentence over the second;
* **agreement** - whether the best sentence and the sentence the answer comes from are the same;
* **arithmetic** - whether the question asks for a computation the answer did not make.

Every value is bounded and cheap: the work is over the few sentences the answer rests on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from bot.models import Answer

FEATURES: tuple[str, ...] = (
    "top_score",
    "top_dense",
    "sentence_margin",
    "claim_top",
    "claim_sentence_score",
    "support",
    "support_near",
    "missing_rare",
    "names_support",
    "cand_score",
    "cand_margin",
    "cand_count",
    "arith_needed",
    "arith_done",
    "yes_no",
    "yes_stated",
    "followup",
    "path_span",
    "path_explain",
    "path_list",
    "q_numeric",
    "q_date",
    "q_who",
    "q_where",
    "q_why",
    "q_words",
    "q_names",
    "copied_for_arith",
    "window_support",
    "proximity",
    "echoed_elsewhere",
    "claim_dense",
    "history",
    "claim_yes",
    "period_far",
    "bare_followup",
    "alt_agree",
    "meaning_support",
    "relation_missing",
)
"""The feature names, in the order the model's coefficients use."""

_ARITH = re.compile(
    r"\b(?:how many \w+ (?:after|before|between|passed|elapsed|later|earlier)|"
    r"how many (?:more|fewer|less)|how much (?:more|less)|difference|combined|together|in total|altogether|"
    r"total of|sum of|how many years (?:after|before|between|from)|how many days|how long (?:after|before)|"
    r"percent(?:age)? (?:of \w+ )?(?:were|was|are|is) not|not \w+\?|older|younger|longer|shorter)\b",
    re.I,
)
"""Question wordings that ask for arithmetic over the text, not a copied figure."""
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
_MARKER = re.compile(r"\[\d+\]")


MEANING = 0.6
"""Cosine (MiniLM word vectors) from which a sentence word counts as close in meaning to a question word."""
SAME_MEANING = 0.7
"""... and as saying the question's verb ("purchase" for "buy"; antonyms such as "open"/"close" stay below)."""
LIGHT = frozenset("be do have say get go make take come use become".split())
WINDOW = 6
"""Tokens on each side of the answer's span in which the question's words are looked for."""


def _own(text: str) -> str:
    """The answer's own words: before the first marker or quote."""
    return re.split(r"\[\d+\]|[“\"]", text, maxsplit=1)[0]


def _support(w: Any, sentences: list[Any]) -> tuple[float, float, set[str]]:
    """Weighted share of the question's own words and of its names that some sentences state."""
    from bot.language.tokens import key

    q = w.q
    said: set[str] = set()
    lows: set[str] = set()
    for s in sentences:
        said |= s.parsed.keys
        lows |= {t.low for t in s.parsed.tokens}
    weights = q.weights or {t.key: t.weight for t in q.terms}
    own = [t for t in q.terms if not t.related and not t.name]
    total = sum(weights.get(t.key, 0.5) for t in own)
    missing = {t.key for t in own if t.key not in said}
    covered = sum(weights.get(t.key, 0.5) for t in own if t.key in said)
    names = [n for n in q.names if not q.modifier(n)]
    named = [any(wd.lower().strip(".’'") in lows or key(wd) in said for wd in n.split()) for n in names]
    return (covered / total if total else 1.0), (sum(named) / len(named) if named else 1.0), missing


def _near(w: Any, s: Any) -> list[Any]:
    """A sentence and its neighbours in the gathered evidence (no extra reads)."""
    out = [s]
    if w.ev is not None:
        for step in (-1, 1):
            n = w.ev.neighbour(s, step)
            if n is not None:
                out.append(n)
    return out


def _claim_sentence(w: Any, answer: Answer) -> Any:
    """The evidence sentence the answer rests on: the stated span's, else the first cited one."""
    if w.claim is not None:
        return w.claim.sentence
    if w.ev is None or not answer.citations:
        return None
    first = answer.citations[0]
    for s in w.ev.sentences:
        r = s.record
        if (r.source, r.start, r.end) == (first.source, first.start, first.end):
            return s
    return None


NEAR_MISS_MEANING = 0.4
"""A claim whose sentence lacks the asked relation and states less than this share of the question is a near miss."""


def near_miss(signals: dict[str, float]) -> bool:
    """Whether an answer's sentence names the subject but not what was asked of it (see :func:`_relation`).

    Such claims are right about half as often as others (measured on the tuning halves), so the model caps
    their confidence (``caps.near_miss`` in ``model.json``). A computed answer is no near miss: its relation
    ("what valuation does the deal imply") is the formula's, not a word a sentence must state (on the tuning
    halves the computed claims this rule marked were right 6 times in 9, and the 3 wrong ones scored below 0.4).
    """
    return (
        signals.get("relation_missing", 0.0) >= 1.0
        and signals.get("meaning_support", 1.0) < NEAR_MISS_MEANING
        and signals.get("arith_done", 0.0) < 1.0
    )


def relation_verbs(q: Any) -> set[str]:
    """Keys of the verbs that carry what a question asks of its subject ("close" in "When did X close the Y?").

    A verb is a word the lexicon knows as a verb that the tagger reads as one, or the first such word after a
    do-auxiliary and its subject ("did Harlow Foods close", where the tagger reads "close" as a noun).
    """
    from bot.language.chunks import tag

    toks = q.tokens
    tags = tag(toks)
    out = set()
    do_support = False
    for t, g in zip(toks, tags, strict=True):
        if t.low in ("do", "does", "did", "will", "would", "can", "could", "should", "may", "might"):
            do_support = True
            continue
        verbal = "VERB" in t.pos and t.content and t.kind == "word" and t.lemma not in LIGHT
        if verbal and (g == "VERB" or do_support):
            out.add(t.key)
            do_support = False
    return out


def _relation(w: Any, sentences: list[Any]) -> tuple[float, float]:
    """How much of what the question asks the sentences state, and whether the asked relation is missing.

    A question word is stated when a sentence has it exactly or by lemma, or a word close in meaning
    (:data:`MEANING`). The relation - a verb of the question (:func:`relation_verbs`) - is missing when no
    sentence has it nor a word very close in meaning (:data:`SAME_MEANING`). Names are left out (the subject is
    measured by ``names_support``): a sentence can name the subject and still not say what was asked of it.
    """
    import numpy as np

    q = w.q
    said = set().union(*(s.parsed.keys for s in sentences))
    words = {t.key: t for t in q.tokens if t.content and t.kind == "word"}
    asked = [t for t in q.terms if not t.name and not t.related and t.key in words and t.key not in LIGHT]
    if not asked:
        return 1.0, 0.0
    weights = q.weights or {}
    missing = [t for t in asked if t.key not in said]
    best: dict[str, float] = {}
    embed = getattr(w.index, "embed_words", None)
    if missing and embed is not None:
        pool = sorted({t.lemma for s in sentences for t in s.parsed.tokens if t.content and t.kind == "word"})
        if pool:
            vecs = np.asarray(embed([words[t.key].lemma for t in missing] + pool), dtype=np.float32)
            sims = vecs[: len(missing)] @ vecs[len(missing) :].T
            best = {t.key: float(row.max()) for t, row in zip(missing, sims, strict=True)}
    total = sum(weights.get(t.key, 0.5) for t in asked)
    share = sum(weights.get(t.key, 0.5) for t in asked if t.key in said or best.get(t.key, 0.0) >= MEANING) / total
    verbs = relation_verbs(q)
    lost = [t for t in missing if t.key in verbs and best.get(t.key, 0.0) < SAME_MEANING]
    return share, float(bool(lost))


def _window_support(w: Any) -> tuple[float, float]:
    """Share of the question's own words (by weight) within a few tokens of the stated span, and its proximity."""
    from bot.engine.spans import anchors, proximity

    c, q = w.claim, w.q
    toks = c.sentence.parsed.tokens
    inside = [k for k, t in enumerate(toks) if c.start <= t.start < c.end]
    if not inside:
        return 0.0, 0.0
    i, j = inside[0], inside[-1] + 1
    near = {t.key for t in toks[max(0, i - WINDOW) : j + WINDOW] if t.content}
    weights = q.weights or {}
    own = [t for t in q.terms if not t.related]
    total = sum(weights.get(t.key, 0.5) for t in own)
    share = sum(weights.get(t.key, 0.5) for t in own if t.key in near) / total if total else 0.0
    return share, proximity(i, j, anchors(q, c.sentence), q, c.sentence)


def _period_far(w: Any) -> float:
    """Whether a year or number the question names stands far from the stated span (1) or next to it (0).

    0.5 when the question names none or the sentence lacks it ("sales in 2004").
    """
    c = w.claim
    asked = {t.low for t in w.q.tokens if t.kind == "num"}
    if not asked:
        return 0.5
    toks = c.sentence.parsed.tokens
    at = [k for k, t in enumerate(toks) if t.low in asked]
    inside = [k for k, t in enumerate(toks) if c.start <= t.start < c.end]
    if not at or not inside:
        return 0.5
    gap = min(abs(a - b) for a in at for b in (inside[0], inside[-1]))
    return float(gap > WINDOW // 2)


def _alt_agree(w: Any) -> float:
    """Whether a second way of choosing the span agrees with the first.

    Of the candidates in the stated span's sentence, the one standing closest to the question's words (by
    rarity-weighted proximity alone, no type or rule bonus) overlaps the stated span.
    """
    from bot.engine.spans import anchors, proximity

    c = w.claim
    s = c.sentence
    toks = s.parsed.tokens
    where = anchors(w.q, s)
    rivals = [x for x in w.found if x.sentence is s]
    if not rivals or not where:
        return 0.5
    starts = {t.start: k for k, t in enumerate(toks)}

    def near(x: Any) -> float:
        inside = [k for k, t in enumerate(toks) if x.start <= t.start < x.end]
        return proximity(inside[0], inside[-1] + 1, where, w.q, s) if inside else 0.0

    alt = max(rivals, key=lambda x: (near(x), -starts.get(x.start, 0)))
    return float(alt.start < c.end and c.start < alt.end)


def _echoed(w: Any, text: str) -> float:
    """How many other of the best sentences also contain the stated span (a second source agrees)."""
    if w.ev is None or not text:
        return 0.0
    low = text.lower()
    home = w.claim.sentence if w.claim is not None else None
    return float(sum(low in s.text.lower() for s in w.ev.top(6) if s is not home))


def extract(outcome: Any, idf: Callable[[str], float] | None = None) -> dict[str, float]:
    """The features of a grounded outcome, by name (see :data:`FEATURES`).

    Args:
        outcome: The grounded engine's :class:`~bot.engine.grounded.Outcome` (its ``work`` is read).
        idf: Rarity of a word key in the index (defaults to the index the work holds).

    Returns:
        Every feature of :data:`FEATURES`, as floats.

    """
    w = outcome.work
    answer: Answer = outcome.answer
    f = dict.fromkeys(FEATURES, 0.0)
    if w is None:
        return f
    q = w.q
    idf = idf or (lambda k: w.index.idf(k))
    ev = w.ev.sentences if w.ev is not None else []
    if ev:
        f["top_score"] = ev[0].score
        f["top_dense"] = ev[0].dense
        f["sentence_margin"] = ev[0].score - (ev[1].score if len(ev) > 1 else 0.0)
    s = _claim_sentence(w, answer)
    if s is not None:
        f["claim_top"] = float(bool(ev) and s is ev[0])
        f["claim_sentence_score"] = s.score
        f["support"], f["names_support"], _missing = _support(w, [s])
        near, _, missing_near = _support(w, _near(w, s))
        f["meaning_support"], f["relation_missing"] = _relation(w, _near(w, s))
        f["support_near"] = near
        rare = [idf(k) for k in missing_near]
        f["missing_rare"] = min(max(rare, default=0.0) / 10.0, 1.0)
    found = w.found
    if found:
        best = w.claim if w.claim is not None else found[0]
        f["cand_score"] = best.score
        other = next((c.score for c in found if c.text.lower() != best.text.lower()), None)
        f["cand_margin"] = best.score - other if other is not None else 0.5
        f["cand_count"] = math.log1p(len(found)) / 3.0
    own = _own(answer.text)
    computed = bool(answer.tool_calls) or w.path in ("compute", "derived", "count_list")
    from bot.engine.operations import parse_operation

    needed = bool(_ARITH.search(w.resolved.text)) or parse_operation(w.resolved.text) is not None
    f["arith_needed"] = float(needed)
    f["copied_for_arith"] = float(needed and not computed)
    f["arith_done"] = float(computed)
    f["yes_no"] = float(w.path == "yesno")
    f["yes_stated"] = float(getattr(w, "stated", 0.0))
    f["followup"] = float(bool(w.resolved.followup))
    f["path_span"] = float(w.path == "span")
    f["path_explain"] = float(w.path in ("explanation", "reason"))
    f["path_list"] = float(w.path in ("list", "count_list"))
    f["q_numeric"] = float(q.numeric)
    f["q_date"] = float(q.atype in ("date", "time"))
    f["q_who"] = float(q.atype == "person")
    f["q_where"] = float(q.atype == "place")
    f["q_why"] = float(q.atype in ("reason", "manner", "action"))
    f["q_words"] = math.log1p(len(_WORD.findall(w.resolved.text))) / 4.0
    f["bare_followup"] = float(bool(w.resolved.followup) and len(_WORD.findall(w.asked)) <= 3)
    f["q_names"] = min(len(q.names), 4) / 4.0
    f["history"] = float(w.resolved.previous is not None)
    f["claim_yes"] = float(w.path == "yesno" and own.strip().lower().startswith("yes"))
    if w.claim is not None:
        f["window_support"], f["proximity"] = _window_support(w)
        f["period_far"] = _period_far(w)
        f["alt_agree"] = _alt_agree(w)
        f["claim_dense"] = w.claim.sentence.dense
        f["echoed_elsewhere"] = min(_echoed(w, w.claim.text), 3.0) / 3.0
    elif s is not None:
        f["claim_dense"] = s.dense
    return {k: round(float(v), 6) for k, v in f.items()}
