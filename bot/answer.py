"""Answer stage: the grounded engine, which needs no generative model.

A LangChain chain of four steps turns a question into a cited answer:

1. **understand** - classify the question and find its names, content words,
   period and target currency (:mod:`bot.understand`), using the vocabulary
   of the indexed documents;
2. **resolve** - fill what a follow-up leaves out from the previous turn;
3. **route** - quantities and derived figures go to the structured tools
   (:mod:`bot.tools`: ``find_quantity``, ``convert_currency``, ``calculate``);
   names and explanations go to the hybrid retriever and the best supporting
   sentences are quoted;
4. **check** - every number in the answer text must be backed by a cited span
   or a tool result (:func:`bot.guard.numbers_supported`); anything else is
   flagged.

Every number in an answer is either copied from a source span or computed by a
tool from source spans. When the documents do not answer - a name they never
mention, a quantity they do not give for that name, a word they never use - the
engine refuses and shows, separately, what the documents do say nearby.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import Runnable, RunnableLambda

from bot.guard import numbers_supported
from bot.models import Answer, Citation, Fact, ToolCall
from bot.retrieve import chunk_document, stem
from bot.split import sentence_spans
from bot.tools import calculate_expression, convert_currency, facts_about, find_quantity, measure_match
from bot.understand import Intent, Vocabulary, analyse, resolve_followup

if TYPE_CHECKING:
    from bot.service import Bot, History

WORD_MATCH = 0.55  # cosine between word vectors above which two words count as synonyms
SENTENCE_MIN = 0.25  # a supporting sentence must be at least this close to the question
SENTENCE_SURE = 0.55  # ... and this close to be accepted even when some of the question's words are missing


# --------------------------------------------------------------------------- working state


@dataclass
class Turn:
    """The working state of one question as it moves through the chain."""

    bot: Bot
    question: str
    history: list[tuple[str, str | None]]  # (user question, assistant answer or None)
    top_k: int
    intent: Intent | None = None
    citations: list[Citation] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    previous_facts: list[Fact] = field(default_factory=list)
    answer: Answer | None = None

    def cite(self, source: str, start: int, end: int, quote: str, chunk_id: str | None = None) -> int:
        """Add (or reuse) a citation and return its marker number."""
        for c in self.citations:
            if (c.source, c.start, c.end) == (source, start, end):
                return c.n
        n = len(self.citations) + 1
        self.citations.append(Citation(n=n, source=source, start=start, end=end, quote=quote, chunk_id=chunk_id))
        return n

    def cite_fact(self, fact: Fact | Mapping[str, Any]) -> int:
        """Cite the sentence a fact stands in."""
        f = fact if isinstance(fact, Fact) else Fact.model_validate(fact)
        if f.id not in {x.id for x in self.facts}:
            self.facts.append(f)
        return self.cite(f.source, f.sentence_start, f.sentence_end, f.sentence)

    def tool(self, name: str, args: dict[str, Any], fn: Any) -> dict[str, Any]:
        """Run a tool function over the index's facts and record the call."""
        result = fn(self.bot.facts(), **args)
        self.tool_calls.append(ToolCall(name=name, args=args, result=result))
        return result

    def finish(self, text: str, refused: bool = False, kind: str | None = None) -> Turn:
        """Set the answer."""
        intent = self.intent
        self.answer = Answer(
            question=self.question,
            resolved_question=intent.text if intent else self.question,
            text=text,
            citations=self.citations,
            facts=self.facts,
            tool_calls=self.tool_calls,
            refused=refused,
            kind=kind or (intent.kind if intent else "explanation"),
            engine="grounded",
        )
        return self


# --------------------------------------------------------------------------- the chain


def grounded_answer(bot: Bot, question: str, history: History, top_k: int) -> Answer:
    """Answer from the documents alone.

    Args:
        bot: The bot (index, retriever, facts).
        question: A validated question.
        history: Earlier turns (strings are user questions; mappings are chat messages).
        top_k: Chunks to retrieve for non-numeric questions.

    Returns:
        The answer, with citations, facts and tool calls.
    """
    turn = Turn(bot=bot, question=question, history=_pairs(history), top_k=top_k)
    return _chain().invoke(turn).answer


@lru_cache(maxsize=1)
def _chain() -> Runnable[Turn, Turn]:
    return (
        RunnableLambda(_understand, name="understand")
        | RunnableLambda(_resolve, name="resolve")
        | RunnableLambda(_route, name="route")
        | RunnableLambda(_check, name="check")
    )


def _pairs(history: History) -> list[tuple[str, str | None]]:
    """Normalise history to (user question, assistant answer) pairs."""
    pairs: list[tuple[str, str | None]] = []
    for item in history or ():
        if isinstance(item, str):
            pairs.append((item, None))
            continue
        role, content = item.get("role"), item.get("content")
        if isinstance(content, list):  # multimodal message parts
            content = " ".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        if not isinstance(content, str):
            continue
        if role == "user":
            pairs.append((content, None))
        elif role == "assistant" and pairs and pairs[-1][1] is None:
            pairs[-1] = (pairs[-1][0], content)
    return [(q, a) for q, a in pairs if q.strip()][-6:]


def _understand(turn: Turn) -> Turn:
    turn.intent = analyse(turn.question, vocabulary(turn.bot))
    return turn


def _resolve(turn: Turn) -> Turn:
    if not turn.history or turn.intent is None:
        return turn
    prev_q, prev_a = turn.history[-1]
    vocab = vocabulary(turn.bot)
    previous = analyse(prev_q, vocab)
    earlier = turn.history[:-1]
    if prev_a is None:  # only user turns were given: answer the previous one to know what it was about
        prev_answer = grounded_answer(turn.bot, prev_q, [q for q, _ in earlier], turn.top_k)
        subjects = _answer_subjects(prev_answer, vocab)
        turn.previous_facts = prev_answer.facts
    else:
        subjects = analyse(prev_a, vocab).entities
    if earlier and not previous.entities:  # the previous turn was itself a follow-up
        previous = resolve_followup(previous, analyse(earlier[-1][0], vocab), [])
    turn.intent = resolve_followup(turn.intent, previous, subjects)
    return turn


def _answer_subjects(answer: Answer, vocab: Vocabulary) -> list[str]:
    if answer.refused:
        return []
    subjects = [f.subject for f in answer.facts if f.subject]
    if subjects:
        return list(dict.fromkeys(subjects))[:2]
    return analyse(answer.text, vocab).entities[:2]


def _route(turn: Turn) -> Turn:
    intent = turn.intent
    assert intent is not None
    if intent.unknown:
        return _refuse_unknown(turn)
    handler = {
        "quantity": _quantity,
        "derived": _derived,
        "conversion": _conversion,
        "entity": _entity,
    }.get(intent.kind, _explain)
    return handler(turn)


def _check(turn: Turn) -> Turn:
    answer = turn.answer
    assert answer is not None
    unsupported = numbers_supported(
        answer.text, [c.quote for c in answer.citations], [t.result for t in answer.tool_calls]
    )
    if unsupported:
        answer.flags.append(f"numbers not found in the cited sources or tool results: {', '.join(unsupported)}")
    return turn


# --------------------------------------------------------------------------- vocabulary


def vocabulary(bot: Bot) -> Vocabulary:
    """The documents' vocabulary, cached per index state."""
    fp = bot.store.fingerprint()
    cached = getattr(bot, "_vocab", None)
    if cached is None or cached[0] != fp:
        cached = (fp, Vocabulary.build(bot.retriever._keyword_index()[1], bot.facts()))
        bot._vocab = cached  # type: ignore[attr-defined]
    return cached[1]


# --------------------------------------------------------------------------- quantities


_PREPOSITIONS = r"(?:in|of|for|at|on|from|into|to|with|by|per)"


def _subject_candidates(intent: Intent) -> list[str]:
    """The question's grammatical subject(s).

    That is the first name not governed by a preposition, and names joined to it by "and"; the
    others are objects ("What stake does X hold in Y?" -> X).
    """
    free = [
        e
        for e in intent.entities
        if not re.search(r"\b" + _PREPOSITIONS + r"\s+(?:the\s+|its\s+|their\s+)?" + re.escape(e), intent.text, re.I)
    ]
    if not free:
        return intent.entities[:1]
    # "how much X did Y ship", "what does Y pay Z": the name right after the auxiliary is the subject
    aux = re.search(r"\b(?:did|does|do|has|have|had|is|are|was|were|will|would|can)\s+(?:the\s+)?", intent.text, re.I)
    if aux:
        after = [e for e in free if intent.text.lower().find(e.lower(), aux.end()) == aux.end()]
        if after:
            free = after + [e for e in free if e not in after]
    chosen = [free[0]]
    for e in free[1:]:
        if re.search(re.escape(chosen[-1]) + r"(?:[’']s?)?\s+(?:and|&|or)\s+" + re.escape(e), intent.text, re.I):
            chosen.append(e)
    return chosen


def _lookup(turn: Turn, measure: str, kind: str | None = None, subjects: list[str] | None = None) -> list[dict]:
    """find_quantity for each named subject; returns the matches of the best subject(s)."""
    intent = turn.intent
    assert intent is not None
    results = []
    words = measure.split()
    for subject in subjects if subjects is not None else _subject_candidates(intent):
        # the whole phrase first, then each content word alone ("stake buy" -> "stake", "buy")
        for phrase in dict.fromkeys([measure, *(words if len(words) > 1 else [])]):
            args = {"subject": subject, "measure": phrase, "kind": kind, "period": intent.period}
            res = turn.tool("find_quantity", args, find_quantity)
            if res["status"] == "found":
                results.append(res)
                break
    return results


_PERCENT_WORDS = re.compile(r"\b(stake|share|percent|percentage|ownership|portion|proportion)\b", re.I)
_MONEY_WORDS = re.compile(
    r"\b(pay|paid|cost|price[sd]?|spend|spent|invest(?:ed|ment)?|worth|revenue|fee|money|raise[ds]?|funding)\b", re.I
)


def _currency_word(text: str) -> bool:
    from bot.facts import currency_code

    return any(currency_code(w) for w in re.findall(r"[A-Za-z$€£¥]+", text))


def kind_hint(intent: Intent) -> str | None:
    """The kind of figure a question asks for, from general English cues."""
    q = intent.text
    asks_money = _MONEY_WORDS.search(q) or (re.search(r"\bhow much\b", q, re.I) and _currency_word(q))
    if asks_money and (not _PERCENT_WORDS.search(q) or re.search(r"\b(pay|paid|cost|spend|spent)\b", q, re.I)):
        return "money"
    if _PERCENT_WORDS.search(q):
        return "percent"
    return None  # "how many" may ask for tonnes or GWh as well as for a count


def _quantity(turn: Turn) -> Turn:
    intent = turn.intent
    assert intent is not None
    if not intent.terms:
        return _explain(turn)
    if not intent.entities:
        return _quantity_without_subject(turn)
    kind = kind_hint(intent)
    found = _lookup(turn, intent.measure, kind=kind)
    best = _best_matches(found, intent) if found else _fallback_facts(turn, kind)
    if not best:
        return _refuse_quantity(turn)
    if _from_to(best) and re.search(r"\b(new|added|more|grow\w*|increase\w*)\b", intent.text, re.I):
        return _growth(turn)
    approx = [f for f in best if f.approximate]
    if approx and re.search(r"\b(exact|exactly|precise|precisely|specific)\b", intent.text, re.I):
        turn.intent = intent
        return _refuse_quantity(turn, note="They give only an approximate figure.")
    return turn.finish(_state_facts(turn, best), kind="quantity")


def _fallback_facts(turn: Turn, kind: str | None) -> list[Fact]:
    """When no fact names the subject with that measure.

    Two general cases: the subject has exactly one figure of the asked kind ("What percentage ... X" when
    the document calls it a stake), or a figure with no subject of its own stands next to the name
    ("X ... Models priced at 200,000 yuan ...", the price of X's models).
    """
    intent = turn.intent
    assert intent is not None
    facts = turn.bot.facts()
    if kind:
        for name in intent.entities:
            own = [f for f in facts_about(facts, name) if f.kind == kind and f.object != name]
            if len({(f.value, f.low, f.high) for f in own}) == 1:
                return own[:1]
    if re.search(r"\bhow (?:big|large|small)\b|\bsize\b", intent.text, re.I):  # a physical magnitude
        for name in intent.entities:
            sized = [f for f in facts_about(facts, name) if f.kind == "other" and f.unit]
            if len(sized) == 1:
                return sized
    context = _context_fact(turn, kind=kind, require_measure=True)
    return [context] if context else []


def _context_fact(
    turn: Turn, kind: str | None = None, require_measure: bool = True, exclude_currency: str | None = None
) -> Fact | None:
    """The figure whose measure matches the question, in a passage that mentions the question's names."""
    intent = turn.intent
    assert intent is not None
    docs = turn.bot.retriever.search(intent.text, turn.top_k)
    names = [e.lower() for e in intent.entities]
    best: tuple[float, Fact] | None = None
    for f in turn.bot.facts():
        if (kind and f.kind != kind) or f.kind == "date" or (exclude_currency and f.currency == exclude_currency):
            continue
        if intent.period and f.period and intent.period.lower() not in f.period.lower():
            continue
        chunk = next(
            (
                d
                for d in docs
                if d.metadata["source"] == f.source and d.metadata["start"] <= f.start < d.metadata["end"]
            ),
            None,
        )
        if chunk is None:
            continue
        measure = max((measure_match(t, f) for t in [intent.measure, *intent.terms]), default=0.0)
        words = {stem(w) for w in re.findall(r"[a-z]+", f.sentence.lower())}
        if names and len(intent.stems & words) >= 2:  # the sentence around the figure uses the question's words
            measure = max(measure, 0.75)
        if require_measure and measure < 0.7:
            continue
        if names and f.subject:  # a figure that has a subject of its own is never lent to another name
            continue
        window = _lead_in(chunk, f).lower()
        score = 2.0 * measure + 1.0 * any(n in window for n in names)
        score += 0.5 * bool(intent.period and f.period and intent.period.lower() in f.period.lower())
        if (not names or score >= 2.4) and (best is None or score > best[0]):
            best = (score, f)
    return best[1] if best else None


def _best_matches(found: list[dict], intent: Intent) -> list[Fact]:
    """The top match per subject, plus its from/to partner when the sentence gives a change."""
    out: list[Fact] = []
    for res in found:
        matches = res["matches"]
        top = matches[0]["confidence"]
        tied = [Fact.model_validate(m["fact"]) for m in matches if m["confidence"] >= top - 1e-9]
        # an entity named as the object (the company a stake is *in*) is not the subject
        tied = [
            f for f in tied if not (f.subject and f.subject in intent.entities and f.object == res["query"]["subject"])
        ] or tied
        for f in tied[:3]:
            if f.id not in {x.id for x in out}:
                out.append(f)
    return out


def _state_facts(turn: Turn, facts: list[Fact]) -> str:
    lines = []
    pair = _from_to(facts)
    if pair:
        old, new = pair
        n = turn.cite_fact(old)
        turn.cite_fact(new)
        measure = _surface_measure(new)
        what = f"{new.subject}'s {measure}" if new.subject and measure else (new.subject or measure or "It")
        lines.append(f"{what[:1].upper() + what[1:]} went from {old.quantity_text} to {new.quantity_text} [{n}].")
        facts = [f for f in facts if f.id not in (old.id, new.id)]
    for f in facts:
        n = turn.cite_fact(f)
        lines.append(f"{_fact_sentence(f)} [{n}]")
    return " ".join(lines) + "\n\n" + _sources(turn)


def _sources(turn: Turn) -> str:
    return "Source: " + " ".join(f"[{c.n}] “{c.quote}”" for c in turn.citations)


def _fact_sentence(f: Fact) -> str:
    """A short statement of a fact, in the document's own words where possible."""
    if not f.subject:
        measure = _surface_measure(f)
        return f"The documents give {f.quantity_text}" + (f" ({measure})" if measure else "") + "."
    who = f.subject
    alias = f" ({', '.join(a for a in f.subject_aliases if a != f.subject)})" if f.subject_aliases else ""
    measure = _surface_measure(f)
    period = f" in {f.period}" if f.period and f.period.lower() not in f.quantity_text.lower() else ""
    obj = f" in {f.object}" if f.object and f.object.lower() not in f.quantity_text.lower() else ""
    role = getattr(f, "role", None)
    if role in ("from", "to"):
        return f"{who}{alias}: {measure} {role} {f.quantity_text}{period}."
    if f.kind == "percent" and measure:
        return (
            f"{who}{alias} holds a {f.quantity_text} {measure}{obj}{period}."
            if measure in ("stake", "share", "ownership")
            else f"{who}{alias}: {measure} {f.quantity_text}{obj}{period}."
        )
    if measure and _is_verb_form(measure):
        return f"{who}{alias} {measure} {f.quantity_text}{obj}{period}."
    if measure:
        return f"{who}{alias}: {measure} of {f.quantity_text}{obj}{period}."
    return f"{who}{alias}: {f.quantity_text}{period}."


def _surface_measure(f: Fact) -> str:
    """The measure as written in the sentence (e.g. 'delivered' for the lemma 'deliver')."""
    if not f.measure:
        return ""
    lemma = f.measure.lower()
    for w in re.findall(r"[A-Za-z-]+", f.sentence):
        lw = w.lower()
        if lw.startswith(lemma[: max(4, len(lemma) - 1)]) and stem(lw)[:4] == stem(lemma)[:4]:
            return lw
    return lemma


def _is_verb_form(word: str) -> bool:
    return word.endswith("ed") or word in {"sold", "paid", "spent", "bought", "made", "built", "held", "raised", "grew"}


def _lead_in(chunk: Any, f: Fact) -> str:
    """The fact's sentence and the one before it, when in the same paragraph of the chunk."""
    base = chunk.metadata["start"]
    text = chunk.page_content
    end = f.sentence_end - base
    spans = [(s, e) for s, e in sentence_spans(text) if e <= end]
    if not spans:
        return f.sentence
    start = spans[-2][0] if len(spans) > 1 and "\n" not in text[spans[-2][1] : spans[-1][0]] else spans[-1][0]
    return text[start:end]


def _quantity_without_subject(turn: Turn) -> Turn:
    """No name in the question: the figure with the asked measure in the best retrieved passages."""
    fact = _context_fact(turn, kind=kind_hint(turn.intent), require_measure=True)  # type: ignore[arg-type]
    if fact is None:
        return _refuse_quantity(turn)
    return turn.finish(_state_facts(turn, [fact]), kind="quantity")


def _term_hits(intent: Intent, text: str) -> bool:
    stems = {stem(w) for w in re.findall(r"[a-z]+", text.lower())}
    return bool(intent.stems & stems)


def _refuse_quantity(turn: Turn, note: str = "") -> Turn:
    intent = turn.intent
    assert intent is not None
    who = " and ".join(intent.entities) if intent.entities else "it"
    what = intent.measure or "that"
    when = f" in {intent.period}" if intent.period else ""
    nearby: list[Fact] = []
    items = [
        item for call in turn.tool_calls if isinstance(call.result, dict) for item in call.result.get("nearby", [])
    ]
    # facts about the asked subject (another measure) first, then the same measure for others
    items.sort(key=lambda i: (i["reason"] != "other_measure", -i["confidence"]))
    own = [f for e in intent.entities for f in facts_about(turn.bot.facts(), e)]
    for f in [*own, *(Fact.model_validate(i["fact"]) for i in items)]:
        if f.id not in {x.id for x in nearby} and f.kind != "date":
            nearby.append(f)
    text = note and f"The documents do not say {_what_phrase(intent)}. {note}"
    text = (
        text
        or f"The documents do not say {_what_phrase(intent)}: they give no figure for {who} matching “{what}”{when}."
    )
    if nearby:
        said = " ".join(f"{_fact_sentence(f)} [{turn.cite_fact(f)}]" for f in nearby[:2])
        text += f"\n\nWhat they do say nearby (about other subjects or measures): {said}"
    else:
        hint = _best_sentences(turn, limit=1)
        if hint:
            s = hint[0]
            text += f"\n\nClosest passage: “{s.text}” [{turn.cite(s.source, s.start, s.end, s.text, s.chunk_id)}]"
    return turn.finish(text, refused=True)


def _what_phrase(intent: Intent) -> str:
    """The question, quoted, for a refusal - unless it carries figures (which the answer must not repeat)."""
    q = intent.text.strip().rstrip("?").strip()
    q = re.sub(r"\s*[\(\[].*$", "", q)
    return "this" if len(q) > 120 or re.search(r"\d", q) else f"“{q}”"


# --------------------------------------------------------------------------- derived figures

_VALUATION = re.compile(r"\b(valuation|valued?|worth|impl(?:y|ies|ied))\b", re.I)
_GROWTH = re.compile(
    r"\b(grow(?:th|n)?|grew|increase[ds]?|rise|rose|gain(?:ed)?|change|how many more|differen\w*|add(?:ed)?|"
    r"fall|fell|drop(?:ped)?|decline[ds]?|decrease[ds]?)\b",
    re.I,
)
_SUM = re.compile(r"\b(combined|together|in total|total|altogether|sum|add(?:ed)? up)\b", re.I)


_RANGE_STAT = re.compile(r"\b(wide|width|spread|span|gap|midpoint|middle|mid-point|average|mean)\b", re.I)


def _derived(turn: Turn) -> Turn:
    intent = turn.intent
    assert intent is not None
    q = intent.text
    if _RANGE_STAT.search(q):
        ranged = _range_stat(turn)
        if ranged:
            return ranged
    if _PER_POINT.search(q):
        return _per_point(turn)
    if _REST.search(q) and kind_hint(intent) != "money":
        rest = _remainder(turn)
        if rest:
            return rest
    if _VALUATION.search(q):
        return _valuation(turn)
    if _SUM.search(q) and len(intent.entities) >= 2:
        return _combined(turn)
    if _GROWTH.search(q):
        return _growth(turn)
    if _SUM.search(q):
        return _combined(turn)
    return _quantity(turn)


@dataclass
class Amount:
    """A money amount to convert: a document figure or one computed from document figures."""

    low: float
    high: float
    currency: str
    text: str  # as shown to the user
    facts: list[Fact]  # provenance (cited)
    about: str = ""  # e.g. "the implied valuation of X"


def _fact_amount(f: Fact) -> Amount:
    low = f.value if f.value is not None else f.low
    high = f.value if f.value is not None else f.high
    return Amount(low or 0.0, high or 0.0, f.currency or "", f.quantity_text, [f])


def _valuation_amount(turn: Turn) -> tuple[Amount, Fact, Fact] | None:
    """Implied valuation = amount paid / stake bought, for the first named subject that has both."""
    intent = turn.intent
    assert intent is not None
    subjects = intent.entities or list(dict.fromkeys(f.subject for f in turn.previous_facts if f.subject))
    # a name may be what the stake is *in* ("X's implied valuation"): use the holders of stakes in it
    holders = [
        f.subject
        for name in subjects
        for f in turn.bot.facts()
        if f.kind == "percent" and f.subject and f.object and f.object.lower() == name.lower()
    ]
    for subject in dict.fromkeys([*subjects, *holders]):
        money = _lookup(turn, "invest paid bought cost", kind="money", subjects=[subject])
        stake = _lookup(turn, "stake", kind="percent", subjects=[subject])
        pair = None
        if money and stake:
            pair = (
                Fact.model_validate(money[0]["matches"][0]["fact"]),
                Fact.model_validate(stake[0]["matches"][0]["fact"]),
            )
        else:
            pair = _money_and_stake_in_one_sentence(turn, subject)
        if pair is None:
            continue
        m, st = pair
        res = turn.tool("calculate", {"expression": f"{m.id} / {st.id}"}, calculate_expression)
        if res.get("ok"):
            about = f"the implied valuation of {st.object}" if st.object else "the implied valuation"
            value = res["value"]
            return Amount(value, value, m.currency or "", _fmt_amount(value, m), [m, st], about), m, st
    return None


def _range_stat(turn: Turn) -> Turn | None:
    """Width or midpoint of a range the documents give (e.g. a price range)."""
    intent = turn.intent
    assert intent is not None
    terms = [t for t in intent.terms if not _RANGE_STAT.fullmatch(t)]
    sub = Intent(**{**intent.__dict__, "terms": terms})
    turn.intent = sub
    facts = [f for f in (_fallback_facts(turn, None) if not intent.entities else []) if f.low is not None]
    if not facts:
        found = _lookup(turn, sub.measure or "range") if intent.entities else []
        facts = [f for f in _best_matches(found, sub) if f.low is not None] if found else []
        facts = facts or [f for f in _fallback_facts(turn, None) if f.low is not None]
    turn.intent = intent
    if not facts:
        return None
    f = facts[0]
    width = re.search(r"\b(wide|width|spread|span|gap)\b", intent.text, re.I)
    expr = f"high({f.id}) - low({f.id})" if width else f"(low({f.id}) + high({f.id})) / 2"
    res = turn.tool("calculate", {"expression": expr}, calculate_expression)
    if not res.get("ok"):
        return None
    n = turn.cite_fact(f)
    unit = f" {f.unit}" if f.unit else ""
    what = "spans" if width else "has its midpoint at"
    text = f"The range {f.quantity_text} {what} {_fmt_number(res['value'])}{unit} [{n}].\n\n" + _sources(turn)
    return turn.finish(text, kind="derived")


def _money_and_stake_in_one_sentence(turn: Turn, name: str) -> tuple[Fact, Fact] | None:
    """'X raised M in a round ..., which took an S stake in X': money and stake of one deal, one sentence."""
    low = name.lower()
    facts = turn.bot.facts()
    for st in facts:
        if st.kind != "percent" or measure_match("stake", st) < 0.7:
            continue
        involved = {x.lower() for x in (st.subject, st.object) if x}
        for m in facts:
            same_sentence = m.sentence_start == st.sentence_start and m.source == st.source
            if m.kind == "money" and same_sentence and low in involved | {(m.subject or "").lower()}:
                return m, st
    return None


_PER_POINT = re.compile(r"\b(?:per|each|every|a)\s+(?:single\s+)?(?:percentage\s+point|percent|point)\b", re.I)
_REST = re.compile(r"\b(other than|besides|apart from|excluding|the rest|remaining|remainder|everyone else)\b", re.I)


def _per_point(turn: Turn) -> Turn:
    """Price of one percentage point of a stake: amount paid / (stake in percent)."""
    found = _valuation_amount(turn)
    if found is None:
        return _refuse_quantity(turn)
    _, m, st = found
    res = turn.tool("calculate", {"expression": f"{m.id} / ({st.id} * 100)"}, calculate_expression)
    if not res.get("ok"):
        return _refuse_quantity(turn)
    marks = "".join(f"[{n}]" for n in dict.fromkeys((turn.cite_fact(m), turn.cite_fact(st))))
    text = (
        f"{m.subject or 'The buyer'} paid about {_fmt_amount(res['value'], m)} per percentage point "
        f"({m.quantity_text} for {st.quantity_text}) {marks}.\n\n" + _sources(turn)
    )
    return turn.finish(text, kind="derived")


def _remainder(turn: Turn) -> Turn | None:
    """What the named holders' stakes leave of the whole: 100 percent minus their sum."""
    intent = turn.intent
    assert intent is not None
    parts: list[Fact] = []
    for name in intent.entities:
        own = [f for f in facts_about(turn.bot.facts(), name) if f.kind == "percent" and f.object]
        parts.extend(own[:1])
    objects = {f.object for f in parts}
    if len(parts) < 1 or len(objects) != 1:
        return None
    res = turn.tool(
        "calculate", {"expression": "100% - (" + " + ".join(f.id for f in parts) + ")"}, calculate_expression
    )
    if not res.get("ok"):
        return None
    items = " + ".join(f"{f.subject} {f.quantity_text} [{turn.cite_fact(f)}]" for f in parts)
    text = (
        f"The documents do not name the other holders of {parts[0].object}; together they hold the remaining "
        f"{_fmt_amount(res['value'], parts[0])} (100 percent − {items}).\n\n" + _sources(turn)
    )
    return turn.finish(text, kind="derived")


def _valuation(turn: Turn) -> Turn:
    """Implied valuation of what a stake was bought in."""
    found = _valuation_amount(turn)
    if found is None:
        return _refuse_quantity(turn)
    amount, m, st = found
    n1, n2 = turn.cite_fact(m), turn.cite_fact(st)
    target = f" for {st.object}" if st.object else ""
    marks = "".join(f"[{n}]" for n in dict.fromkeys((n1, n2)))
    text = (
        f"{m.subject or 'The buyer'} paid {m.quantity_text} for a {st.quantity_text} stake, which implies a "
        f"valuation of about {amount.text}{target} ({m.quantity_text} ÷ {st.quantity_text}) {marks}.\n\n"
        + _sources(turn)
    )
    return turn.finish(text, kind="derived")


def _combined(turn: Turn) -> Turn:
    intent = turn.intent
    assert intent is not None
    measure = " ".join(t for t in intent.terms if not _SUM.fullmatch(t)) or intent.measure
    parts: list[Fact] = []
    missing = []
    kind = kind_hint(intent)
    holders = _subject_candidates(intent)
    for subject in holders if len(holders) > 1 else intent.entities:
        found = _lookup(turn, measure, kind=kind, subjects=[subject])
        best = [f for f in _best_matches(found, intent) if f.object != subject] if found else []
        if not best and kind:  # the subject's only figure of the asked kind ("X also took 15 percent")
            own = [f for f in facts_about(turn.bot.facts(), subject) if f.kind == kind and f.object != subject]
            best = own[:1] if len({f.value for f in own}) == 1 else []
        if best:
            parts.append(best[0])
        else:
            missing.append(subject)
    objects = {f.object for f in parts}
    missing = [m for m in missing if m not in objects]
    if missing or len(parts) < 2:
        return _refuse_quantity(turn)
    res = turn.tool("calculate", {"expression": " + ".join(f.id for f in parts)}, calculate_expression)
    if not res.get("ok"):
        return _refuse_quantity(turn)
    total = _fmt_amount(res["value"], parts[0])
    items = " + ".join(f"{f.subject} {f.quantity_text} [{turn.cite_fact(f)}]" for f in parts)
    text = f"Combined: {total} ({items}).\n\n" + _sources(turn)
    return turn.finish(text, kind="derived")


def _growth(turn: Turn) -> Turn:
    """A change between two figures of the same subject and unit ('from X to Y', 'X, up from Y')."""
    intent = turn.intent
    assert intent is not None
    measure = " ".join(t for t in intent.terms if not _GROWTH.fullmatch(t)) or intent.measure
    facts: list[Fact] = []
    if intent.entities:
        found = _lookup(turn, measure)
        facts = [Fact.model_validate(m["fact"]) for res in found for m in res["matches"]]
    pair = _from_to(facts) or _from_to_in_context(turn)
    if not pair:
        return _refuse_quantity(turn)
    old, new = pair
    diff = turn.tool("calculate", {"expression": f"{new.id} - {old.id}"}, calculate_expression)
    pct = turn.tool("calculate", {"expression": f"pct_change({old.id}, {new.id})"}, calculate_expression)
    if not (diff.get("ok") and pct.get("ok")):
        return _refuse_quantity(turn)
    n = turn.cite_fact(old)
    turn.cite_fact(new)
    unit = f" {new.unit}" if new.unit and new.kind != "percent" else ""
    change = "an increase" if diff["value"] >= 0 else "a decrease"
    who = old.subject or "It"
    text = (
        f"{who} went from {old.quantity_text} to {new.quantity_text}: {change} of "
        f"{_fmt_number(abs(diff['value']))}{unit if old.kind != 'money' else ' ' + (new.unit or '')} "
        f"({_fmt_number(abs(pct['value']))} percent) [{n}].\n\n" + _sources(turn)
    )
    return turn.finish(text, kind="derived")


def _from_to_in_context(turn: Turn) -> tuple[Fact, Fact] | None:
    """A from/to pair in the best passages whose sentence uses the question's words (no name asked)."""
    intent = turn.intent
    assert intent is not None
    docs = turn.bot.retriever.search(intent.text, turn.top_k)
    for d in docs:
        inside = [
            f
            for f in turn.bot.facts()
            if f.source == d.metadata["source"] and d.metadata["start"] <= f.start < d.metadata["end"] and f.role
        ]
        pair = _from_to(inside)
        if pair and (
            _term_hits(intent, pair[1].sentence) or any(measure_match(t, pair[1]) >= 0.7 for t in intent.terms)
        ):
            return pair
    return None


def _from_to(facts: list[Fact]) -> tuple[Fact, Fact] | None:
    """The 'from X to Y' pair among facts (roles set by extraction), old value first, same sentence and unit."""
    for old in facts:
        if old.role != "from":
            continue
        for new in facts:
            if new.role == "to" and new.sentence_start == old.sentence_start and new.unit == old.unit:
                return old, new
    return None


# --------------------------------------------------------------------------- currency conversion


_RATE_Q = re.compile(r"\b(exchange rate|rate|how many \w+ (?:make|per|to|for|buy|is|equal)|per (?:one )?\w+)\b", re.I)


def _conversion(turn: Turn) -> Turn:
    intent = turn.intent
    assert intent is not None
    target = intent.target_currency or ""
    if _RATE_Q.search(intent.text) and len(_currencies(intent.text)) >= 2 and not _stated_money(intent):
        return _rate(turn, _currencies(intent.text))
    amount = None
    if _VALUATION.search(intent.text) or (not intent.terms and _previous_valuation(turn)):
        found = _valuation_amount(turn)
        amount = found[0] if found else None
    if amount is None:
        fact = _money_fact(turn)
        if fact is None:
            return _refuse_quantity(turn)
        if fact.currency == target:
            n = turn.cite_fact(fact)
            return turn.finish(f"{_fact_sentence(fact)} [{n}] (already in {target}).", kind="conversion")
        twin = next((f for f in turn.bot.facts() if fact.paired_with and f.id == fact.paired_with), None)
        if twin and twin.currency == target:  # the document itself states the amount in the other currency
            n = turn.cite_fact(fact)
            return turn.finish(
                f"{fact.quantity_text} is about {twin.quantity_text}, as the documents state [{n}].\n\n"
                + _sources(turn),
                kind="conversion",
            )
        amount = _fact_amount(fact)
    results = []
    for value in dict.fromkeys((amount.low, amount.high)):
        args = {"amount": value, "from_currency": amount.currency, "to_currency": target}
        res = turn.tool("convert_currency", args, convert_currency)
        if res["status"] != "converted":
            marks = _marks(turn, amount.facts)
            return turn.finish(
                f"The documents give no exchange rate from {amount.currency} to {target}, so {amount.text}"
                f"{marks} cannot be converted from them.",
                refused=True,
                kind="conversion",
            )
        results.append(res)
    marks = _marks(turn, amount.facts)
    src = results[0]["rate_source"]
    m = turn.cite_fact(src["from_fact"])
    shown = "–".join(_fmt_money(r["converted"]) for r in results)
    about = f"{amount.about[:1].upper()}{amount.about[1:]}, " if amount.about else ""
    text = (
        f"{about}{amount.text}{marks} is about {shown} {_currency_name(target, src)} at the rate the documents "
        f"imply ({results[0]['rate']:.4g} {target} per {amount.currency}, from “{src['from_fact']['quantity_text']}”"
        f" = “{src['to_fact']['quantity_text']}” [{m}]).\n\n" + _sources(turn)
    )
    return turn.finish(text, kind="conversion")


def _marks(turn: Turn, facts: list[Fact]) -> str:
    """Citation markers for the document facts among ``facts`` (amounts typed in the question have none)."""
    ns = dict.fromkeys(turn.cite_fact(f) for f in facts if f.source != "question")
    return (" " + "".join(f"[{n}]" for n in ns)) if ns else ""


def _currencies(text: str) -> list[str]:
    from bot.facts import currency_code

    codes = []
    for m in re.finditer(r"(?:u\.?s\.?\s*)?[A-Za-z$€£¥]+", text):
        code = currency_code(m.group(0)) or currency_code(m.group(0).split()[-1]) if m.group(0).strip() else None
        if code and code not in codes:
            codes.append(code)
    return codes


def _stated_money(intent: Intent) -> bool:
    from bot.facts import extract_facts

    return any(f.kind == "money" and f.value and f.value != 1 for f in extract_facts(intent.text, "question"))


def _previous_valuation(turn: Turn) -> bool:
    return bool(turn.history) and bool(_VALUATION.search(turn.history[-1][0]))


def _rate(turn: Turn, codes: list[str]) -> Turn:
    """Answer 'What exchange rate do the documents imply?' or 'How many X make one Y?'."""
    intent = turn.intent
    assert intent is not None
    first, second = codes[0], codes[1]
    m = re.search(r"how many (\S+)", intent.text, re.I)
    if m and (m.group(1) and _currencies(m.group(1))):  # "how many yuan make one dollar": price of 1 second in first
        first, second = second, first
        if _currencies(m.group(1))[0] != second:
            first, second = codes[1], codes[0]
    res = turn.tool("convert_currency", {"amount": 1, "from_currency": first, "to_currency": second}, convert_currency)
    if res["status"] != "converted":
        return turn.finish(
            f"The documents give no exchange rate between {first} and {second}.", refused=True, kind="conversion"
        )
    inverse = turn.tool(
        "convert_currency", {"amount": 1, "from_currency": second, "to_currency": first}, convert_currency
    )
    src = res["rate_source"]
    n = turn.cite_fact(src["from_fact"])
    text = (
        f"The documents imply about {res['rate']:.4g} {second} per {first}"
        + (f" ({inverse['rate']:.4g} {first} per {second})" if inverse["status"] == "converted" else "")
        + f", from “{src['from_fact']['quantity_text']}” = “{src['to_fact']['quantity_text']}” [{n}].\n\n"
        + _sources(turn)
    )
    return turn.finish(text, kind="conversion")


def _currency_name(code: str | None, src: Mapping[str, Any]) -> str:
    for key in ("to_fact", "from_fact"):
        f = src.get(key) or {}
        if f.get("currency") == code and f.get("unit"):
            return f["unit"]
    return code or ""


def _money_fact(turn: Turn) -> Fact | None:
    """The amount to convert: stated in the question, else the document figure the question names."""
    from bot.facts import extract_facts

    intent = turn.intent
    assert intent is not None
    stated = [f for f in extract_facts(intent.text, "question") if f.kind == "money" and f.currency]
    stated = [f for f in stated if f.currency != intent.target_currency]
    if stated:
        return stated[0]
    if not intent.entities and not [t for t in intent.terms if t not in _CONVERSION_WORDS] and turn.previous_facts:
        previous = [f for f in turn.previous_facts if f.kind == "money"]
        if previous:
            return previous[0]
    if intent.entities:
        found = _lookup(turn, intent.measure or "price", kind="money")
        best = [f for f in _best_matches(found, intent) if f.currency != intent.target_currency] if found else []
        if best:
            return best[0]
    fact = _context_fact(turn, kind="money", require_measure=True, exclude_currency=intent.target_currency)
    if fact:
        return fact
    previous = [f for f in turn.previous_facts if f.kind == "money"]
    return previous[0] if previous else None


_CONVERSION_WORDS = {"convert", "converted", "conversion", "worth", "equivalent", "exchange", "rate"}


# --------------------------------------------------------------------------- names and explanations


@dataclass
class Sentence:
    """A candidate supporting sentence."""

    source: str
    start: int
    end: int
    text: str
    chunk_id: str
    score: float = 0.0
    similarity: float = 0.0
    before: str = ""  # the preceding sentence of the same paragraph (for names a pronoun refers to)


def _entity(turn: Turn) -> Turn:
    intent = turn.intent
    assert intent is not None
    if intent.numbers:  # "Which company invested 2 billion euros?": find the fact with that number
        facts = _facts_with_numbers(turn, intent)
        if facts:
            turn.tool_calls.append(
                ToolCall(name="match_numbers", args={"numbers": intent.numbers}, result=[f.id for f in facts])
            )
            return turn.finish(_state_facts(turn, facts[:2]), kind="entity")
    return _explain(turn)


def _facts_with_numbers(turn: Turn, intent: Intent) -> list[Fact]:
    wanted = []
    for raw in intent.numbers:
        try:
            wanted.append(float(raw.replace(",", "")))
        except ValueError:
            continue
    out = []
    for f in turn.bot.facts():
        shown = re.findall(r"\d[\d,]*(?:\.\d+)?", f.text)
        values = {float(s.replace(",", "")) for s in shown}
        if any(any(math.isclose(w, v) for v in values) for w in wanted) and _term_hits(intent, f.sentence):
            out.append(f)
    return out


_DATE_LIKE = re.compile(
    r"\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|december|"
    r"quarter|yesterday|today|last (?:year|month|week)|this (?:year|month|week))\b",
    re.I,
)
_ACRONYM_Q = re.compile(r"\b(stand for|stands for|short for|abbreviat\w*|acronym|full name)\b", re.I)


def _explain(turn: Turn) -> Turn:
    intent = turn.intent
    assert intent is not None
    vocab = vocabulary(turn.bot)
    if (
        not intent.entities
        and intent.terms
        and not any(t in vocab.words or stem(t) in vocab.stems for t in intent.terms)
    ):
        return _refuse_general(turn, None, note="None of its words occur in them.")
    if _ACRONYM_Q.search(intent.text) and intent.entities:
        expanded = _expand_acronym(turn, intent.entities[0])
        if expanded:
            return expanded
    sentences = _best_sentences(turn, limit=2)
    if not sentences:
        return _refuse_general(turn, None)
    best = sentences[0]
    missing = _uncovered_terms(turn, intent, sentences)
    covered = 1 - len(missing) / max(1, len(intent.terms))
    if not _names_covered(intent, sentences) or best.similarity < SENTENCE_MIN:
        return _refuse_general(turn, best)
    if best.similarity < SENTENCE_SURE and (covered < 0.5 or (intent.terms and len(missing) == len(intent.terms))):
        return _refuse_general(turn, best, missing)
    if re.match(r"\s*when\b", intent.text, re.I) and not _DATE_LIKE.search(best.text):
        return _refuse_general(turn, best, note="They give no date for it.")
    chosen = [best] + [s for s in sentences[1:] if s.score >= best.score * 0.85 and intent.kind != "entity"]
    parts = [f"“{s.text}” [{turn.cite(s.source, s.start, s.end, s.text, s.chunk_id)}]" for s in chosen]
    name = _answer_names(turn, chosen) if intent.kind == "entity" else None
    lead = f"{name}. According to the documents: " if name else "According to the documents: "
    return turn.finish(lead + " ".join(parts))


def _expand_acronym(turn: Turn, name: str) -> Turn | None:
    """'What does ABC stand for?': the long form written next to the acronym in the documents."""
    for d in turn.bot.retriever.search(name, max(turn.top_k, 4)):
        m = re.search(r"((?:[A-Z][\w-]*\s+){1,6}[A-Z][\w-]*)\s*\(" + re.escape(name) + r"\)", d.page_content)
        if m:
            base = d.metadata["start"]
            for s, e in sentence_spans(d.page_content):
                if s <= m.start() < e:
                    text = d.page_content[s:e]
                    n = turn.cite(d.metadata["source"], base + s, base + e, text, d.metadata["chunk_id"])
                    return turn.finish(
                        f"{name} stands for {m.group(1).strip()} [{n}].\n\n" + _sources(turn), kind="entity"
                    )
    return None


# "Who runs/leads/heads X?" is answered by a sentence naming X's chief executive, chair, founder ... (general English)
_LEADS = frozenset(
    ["run", "runs", "ran", "running", "lead", "leads", "leading", "head", "heads", "headed", "manage", "manages"]
)
_LEADER_ROLE = re.compile(
    r"\b(chief executive|ceo|president|chair(?:man|woman|person)?|founder|managing director|director|head|boss)\b",
    re.I,
)
_ANAPHORIC_OPENING = re.compile(r"(?:The|This|These|That|Those|Both|It|Its|They|Their)\b")
_BOTH = re.compile(r"^\s*(?:Both|They|These|The two)\b")
_PLURAL_Q = re.compile(r"^\s*(?:which|what)\s+(?!is\b|was\b|does\b|has\b)\w{3,}s\b|\bwho are\b", re.I)


def _answer_names(turn: Turn, sentences: list[Sentence]) -> str | None:
    """The name(s) answering a who/which question: the nearest one, or all for a plural question."""
    intent = turn.intent
    assert intent is not None
    if not _PLURAL_Q.search(intent.text):
        return _answer_name(turn, sentences[0])
    vocab = vocabulary(turn.bot)
    asked = {e.lower() for e in intent.entities}
    text = " ".join(s.text for s in sentences[:1])
    if _BOTH.match(text) and sentences[0].before:  # "Both companies ...": the pair named just before
        pairs = re.findall(r"([A-Z][\w-]+) and ([A-Z][\w-]+)", sentences[0].before)
        named = [p for p in pairs if all(x.lower() in vocab.names for x in p)]
        if named:
            return f"{named[-1][0]} and {named[-1][1]}"
    found: list[tuple[int, str]] = []
    for alias, canon in vocab.names.items():
        if (
            alias in asked
            or any(alias in a or a in alias for a in asked)
            or (" " in alias and canon != vocab.names.get(alias))
        ):
            continue
        m = re.search(r"(?<![\w])" + re.escape(alias) + r"(?![\w])", text, re.I)
        if m and canon not in [c for _, c in found] and not any(canon in c or c in canon for _, c in found):
            found.append((m.start(), canon))
    names = [c for _, c in sorted(found)][:4]
    return ", ".join(names) if names else None


def _answer_name(turn: Turn, sentence: Sentence) -> str | None:
    """For 'who/which' questions: the name tied to the question's names ("X’s Y", "X with Y", "Xs such as Y").

    A name that merely stands somewhere in the sentence is not asserted; the quoted sentence answers then.
    """
    found = _name_near(turn, sentence)
    return found[1] if found and found[0] < 12 else None


def _name_near(turn: Turn, sentence: Sentence) -> tuple[float, str] | None:
    """(distance, name) of the best other name near the asked names; 'with/by X' right after counts as nearest."""
    intent = turn.intent
    assert intent is not None
    vocab = vocabulary(turn.bot)
    asked = {e.lower() for e in intent.entities}
    low = sentence.text.lower()
    anchors = [(m.start(), m.end()) for e in asked for m in re.finditer(re.escape(e), low)]
    if not anchors and any(e in sentence.before.lower() for e in asked):
        anchors = [(-25, -25)]  # the asked name is in the previous sentence ("... X. The deal with Y ...")
    kind_m = re.match(r"\s*(?:which|what)\s+(\w+)(?:\s+(\w+))?", intent.text, re.I)
    kinds = "|".join(
        re.escape(stem(w.lower()))
        for w in (kind_m.groups() if kind_m else ())
        if w and len(w) > 3 and w.islower() and w.lower() not in asked and w.lower() not in {"does", "were", "have"}
    )
    best: tuple[float, str] | None = None
    for alias, canon in vocab.names.items():
        if alias in asked or canon.lower() in asked or any(alias in a or a in alias for a in asked):
            continue
        for m in re.finditer(r"(?<![\w])" + re.escape(alias) + r"(?![\w])", low):
            dist = min(
                (m.start() - e if m.start() >= e else s - m.end() + 5 if m.end() <= s else 0 for s, e in anchors),
                default=m.start(),
            )
            before = low[max(0, m.start() - 14) : m.start()]
            if any(re.search(re.escape(a) + r"[’']s?\s+$", before) for a in asked):
                dist -= 20  # "X’s Y": Y belongs to the asked name
            elif re.search(r"\b(with|by|from|partner)\W+$", before):
                dist -= 10
            elif any(re.search(re.escape(a) + r"\W{0,3}(?:,|\band\b|\bor\b)\s*$", before) for a in asked):
                dist += 30  # "X and Y", "X, Y": a peer of the asked name, not what is asked
            if kinds and re.search(
                r"\b(?:" + kinds + r")\w*\W+(?:\w+\W+){0,3}$", low[max(0, m.start() - 30) : m.start()]
            ):
                dist = min(dist, -5)  # "markets such as X" for "Which markets ...?"
            cand = (dist - len(alias) / 10, canon)
            if best is None or cand < best:
                best = cand
    return best


def _refuse_unknown(turn: Turn) -> Turn:
    intent = turn.intent
    assert intent is not None
    names = ", ".join(dict.fromkeys(intent.unknown))
    text = f"The documents do not mention {names}, so they cannot answer {_what_phrase(intent)}."
    return turn.finish(text, refused=True)


def _refuse_general(turn: Turn, closest: Sentence | None, missing: list[str] | None = None, note: str = "") -> Turn:
    intent = turn.intent
    assert intent is not None
    text = f"The documents do not say {_what_phrase(intent)}." + (f" {note}" if note else "")
    if missing:
        text += f" They never mention {', '.join(missing)}."
    if closest is not None:
        n = turn.cite(closest.source, closest.start, closest.end, closest.text, closest.chunk_id)
        text += f"\n\nClosest passage: “{closest.text}” [{n}]"
    return turn.finish(text, refused=True)


def _best_sentences(turn: Turn, limit: int = 2) -> list[Sentence]:
    """Rank the sentences of the retrieved chunks by closeness to the question, names and words."""
    intent = turn.intent
    assert intent is not None
    docs = turn.bot.retriever.search(intent.text, max(turn.top_k, 6))
    if intent.kind == "entity" and intent.entities:  # passages naming all the asked names, whatever the wording
        seen = {d.metadata["chunk_id"] for d in docs}
        for chunk, _score in turn.bot.retriever.keyword_search(" ".join(intent.entities), 4):
            if chunk.id not in seen and all(e.lower() in chunk.text.lower() for e in intent.entities):
                docs.append(chunk_document(chunk))
    cands: dict[tuple[str, int, int], Sentence] = {}
    for d in docs:
        base, text, source = d.metadata["start"], d.page_content, d.metadata["source"]
        spans = sentence_spans(text)
        # single sentences, and two neighbours of one paragraph (an answer often spans a claim and its reason)
        windows = list(spans)
        if intent.kind != "entity":
            windows += [(a[0], b[1]) for a, b in itertools.pairwise(spans) if "\n" not in text[a[1] : b[0]]]
        previous = {
            b[0]: text[a[0] : a[1]]
            for a, b in itertools.pairwise(spans)
            if "\n" not in text[a[1] : b[0]] or _ANAPHORIC_OPENING.match(text, b[0])
        }
        if spans and base > 0 and _ANAPHORIC_OPENING.match(text, spans[0][0]):
            previous[spans[0][0]] = _sentence_before(turn.bot, source, base + spans[0][0])
        for s, e in windows:
            cands.setdefault(
                (source, base + s, base + e),
                Sentence(source, base + s, base + e, text[s:e], d.metadata["chunk_id"], before=previous.get(s, "")),
            )
    if not cands:
        return []
    import numpy as np

    items = list(cands.values())
    q = np.asarray(turn.bot.embeddings.embed_query(intent.text))
    vecs = np.asarray(_sentence_vectors(turn.bot, [s.text for s in items]))
    sims = vecs @ q
    for s, sim in zip(items, sims, strict=True):
        low = s.text.lower()
        around = f"{s.before} {s.text}".lower()
        names = sum(1.0 if e.lower() in low else 0.8 if e.lower() in around else 0.0 for e in intent.entities)
        names /= max(1, len(intent.entities))
        words = {stem(w) for w in re.findall(r"[a-z]+", low)}
        terms = sum(1 for t in intent.stems if t in words or (len(t) >= 5 and any(w.startswith(t) for w in words)))
        terms += sum(1 for t in intent.terms if t in _LEADS and stem(t) not in words and _LEADER_ROLE.search(s.text))
        terms /= max(1, len(intent.stems))
        s.similarity = float(sim)
        s.score = float(sim) + 0.6 * names + 0.4 * terms
        if intent.kind == "entity":  # a who/which question wants a sentence naming someone close to the asked names
            near = _name_near(turn, s)
            if near:
                bonus = 0.8 if near[0] < 0 else 0.4 if near[0] < 12 else 0.2 if near[0] < 40 else 0.05
                s.score += bonus * min(1.0, s.similarity / 0.5)  # closeness counts only in a relevant sentence
            if _PLURAL_Q.search(intent.text) and len((_answer_names(turn, [s]) or "").split(", ")) >= 2:
                s.score += 0.2
        if len(sentence_spans(s.text)) > 1:
            s.score -= 0.3 if intent.kind == "entity" else 0.05  # a single sentence wins a tie
    items.sort(key=lambda s: -s.score)
    chosen: list[Sentence] = []
    for s in items:
        if not any(s.source == c.source and s.start < c.end and c.start < s.end for c in chosen):
            chosen.append(s)
        if len(chosen) == limit:
            break
    return chosen


def _sentence_before(bot: Bot, source: str, start: int) -> str:
    """The sentence just before an offset of a document (it may sit in the previous chunk)."""
    before, _, _ = bot.passage(source, start, start, context=400)
    spans = sentence_spans(before)
    return before[spans[-1][0] : spans[-1][1]] if spans else ""


def _sentence_vectors(bot: Bot, texts: list[str]) -> list[list[float]]:
    cache: dict[str, list[float]] = bot.__dict__.setdefault("_sentence_cache", {})
    todo = [t for t in dict.fromkeys(texts) if t not in cache]
    if todo:
        for t, v in zip(todo, bot.embeddings.encode(todo), strict=True):
            cache[t] = v
        if len(cache) > 20000:
            cache.clear()
    return [cache[t] for t in texts]


def _names_covered(intent: Intent, sentences: list[Sentence]) -> bool:
    """Every name of the question appears in the supporting sentences (or just before them)."""
    text = " ".join(f"{s.before} {s.text}" for s in sentences).lower()
    return all(e.lower() in text for e in intent.entities) or len(intent.entities) == 0


def _uncovered_terms(turn: Turn, intent: Intent, sentences: list[Sentence]) -> list[str]:
    """Content words of the question that neither the documents nor a synonym in the passages contain."""
    vocab = vocabulary(turn.bot)
    missing = [t for t in intent.terms if stem(t) not in vocab.stems and t not in vocab.words]
    missing = [t for t in missing if not (t in _LEADS and any(_LEADER_ROLE.search(s.text) for s in sentences))]
    if not missing:
        return []
    passage_words = sorted({w.lower() for s in sentences for w in re.findall(r"[A-Za-z][A-Za-z-]{2,}", s.text)})
    if not passage_words:
        return missing
    import numpy as np

    vecs = _sentence_vectors(turn.bot, [*missing, *passage_words])
    m = np.asarray(vecs[: len(missing)])
    p = np.asarray(vecs[len(missing) :])
    best = (m @ p.T).max(axis=1)
    return [t for t, b in zip(missing, best, strict=True) if b < WORD_MATCH]


# --------------------------------------------------------------------------- number formatting


def _fmt_number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _fmt_money(value: float) -> str:
    if abs(value) >= 1e9:
        return f"{value / 1e9:,.2f}".rstrip("0").rstrip(".") + " billion"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f}".rstrip("0").rstrip(".") + " million"
    return f"{round(value):,}"


def _fmt_amount(value: float, like: Fact) -> str:
    """A computed value in the unit of the fact it was computed from."""
    if like.kind == "percent":
        return f"{_fmt_number(round(value * 100, 2))} percent"
    if like.kind == "money":
        return f"{_fmt_money(value)} {like.unit or like.currency or ''}".strip()
    unit = f" {like.unit}" if like.unit else ""
    return f"{_fmt_number(value)}{unit}"
