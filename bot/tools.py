"""Structured tools over the documents' numeric facts, for an LLM agent or a rule-based engine.

Three plain functions hold the logic and take the facts explicitly:

* :func:`find_quantity` - the facts giving a *subject*'s *measure* (subject-aware: another
  entity's number is never a match; it is shown separately as ``nearby``);
* :func:`convert_currency` - conversion using only a rate the documents imply (an amount
  stated in two currencies in one place);
* :func:`calculate_expression` - :func:`bot.calculate.calculate` with the facts as variables.

:func:`make_tools` wraps them as LangChain ``StructuredTool`` objects bound to a fact source.
Every function returns a JSON-serialisable dict and never raises on bad input: failures come
back as ``{"status": "error", "message": ...}`` (or ``ok: False`` for calculations).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from difflib import SequenceMatcher
from typing import Any, Literal, get_args

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from bot.calculate import calculate
from bot.facts import currency_code, measure_lemma
from bot.models import Fact, FactKind

MAX_ARG_CHARS = 200
MAX_AMOUNT = 1e15
SUBJECT_THRESHOLD = 0.8
MEASURE_THRESHOLD = 0.7
NEARBY_LIMIT = 5

# Measures that mean the same thing for a question; a second tier is "related" (lower confidence).
_SYNONYMS: list[set[str]] = [
    {"invest", "pay", "spend", "acquire", "inject"},
    {"stake", "ownership", "equity", "share", "holding", "own", "hold"},
    {"price", "cost", "priced", "charge"},
    {"deliver", "ship"},
    {"sell", "sale"},
    {"produce", "output", "manufacture", "make", "production"},
    {"revenue", "turnover", "sales revenue"},
    {"profit", "earnings", "earn", "income"},
    {"employ", "staff", "employee", "workforce", "headcount", "worker"},
    {"valuation", "value", "worth"},
    {"raise", "funding", "financing"},
    {"increase", "grow", "growth", "rise", "gain", "expand"},
    {"decrease", "decline", "fall", "drop", "cut", "reduce"},
]
_RELATED: list[set[str]] = [
    {"price", "pay", "invest", "cost"},
    {"deliver", "sell", "ship"},
    {"sell", "revenue"},
]
# Asking for one of these measures implies a kind of number.
_MONEY_MEASURES = {"invest", "pay", "price", "revenue", "profit", "valuation", "raise", "acquire"}
_KINDS: tuple[str, ...] = get_args(FactKind)


class FactView(BaseModel):
    """A fact as tools report it: the value, what it is about and where it stands."""

    id: str
    source: str
    text: str
    quantity_text: str
    value: float | None
    low: float | None
    high: float | None
    kind: str
    unit: str | None
    currency: str | None
    subject: str | None
    subject_aliases: list[str]
    object: str | None
    measure: str | None
    period: str | None
    role: str | None
    approximate: bool
    start: int
    end: int
    sentence: str
    sentence_start: int
    sentence_end: int


class QuantityMatch(BaseModel):
    """A fact that answers the query, with how sure the match is."""

    fact: FactView
    confidence: float = Field(ge=0, le=1)


class NearbyFact(BaseModel):
    """A fact close to the query that does NOT answer it (another subject or measure)."""

    fact: FactView
    reason: Literal["other_subject", "other_measure", "other_period"]
    confidence: float = Field(ge=0, le=1)


class FindQuantityResult(BaseModel):
    """Result of :func:`find_quantity`."""

    status: Literal["found", "not_found", "error"]
    query: dict[str, Any]
    matches: list[QuantityMatch] = Field(default_factory=list)
    nearby: list[NearbyFact] = Field(default_factory=list)
    message: str = ""


class RateSource(BaseModel):
    """A pair of facts stating one amount in two currencies, and the rate it implies."""

    rate: float = Field(description="Units of to_currency per unit of from_currency.")
    from_fact: FactView
    to_fact: FactView


class ConvertResult(BaseModel):
    """Result of :func:`convert_currency`."""

    status: Literal["converted", "no_rate", "error"]
    amount: float | None = None
    from_currency: str | None = None
    to_currency: str | None = None
    rate: float | None = None
    converted: float | None = None
    display: str | None = None
    rate_source: RateSource | None = None
    other_rates: list[float] = Field(default_factory=list, description="Other rates the documents imply.")
    message: str = ""


# --------------------------------------------------------------------------- find_quantity


def find_quantity(
    facts: list[Fact], subject: str, measure: str, kind: str | None = None, period: str | None = None
) -> dict[str, Any]:
    """Find the facts that give ``subject``'s ``measure`` (optionally of a kind / in a period).

    Args:
        facts: The facts to search.
        subject: The entity, e.g. ``"Acme"``; case, possessives and small typos are tolerated.
        measure: What is asked, e.g. ``"deliveries"``, ``"paid"``, ``"stake"``.
        kind: Optional fact kind (count, money, percent, ratio, date, period, other).
        period: Optional period, e.g. ``"November"``; facts stating another period are excluded.

    Returns:
        A dumped :class:`FindQuantityResult`: ``status`` found / not_found / error, ``matches``
        best first with a confidence, and ``nearby`` facts about other subjects or measures.

    """
    query = {"subject": subject, "measure": measure, "kind": kind, "period": period}
    problem = _check_query(subject, measure, kind, period)
    if problem:
        return FindQuantityResult(status="error", query=query, message=problem).model_dump()
    matches: list[QuantityMatch] = []
    nearby: list[NearbyFact] = []
    want_money = measure_lemma(measure) in _MONEY_MEASURES or any(
        measure_lemma(w) in _MONEY_MEASURES for w in _words(measure)
    )
    for fact in facts:
        if kind and fact.kind != kind:
            continue
        if fact.kind == "date" and kind != "date":
            continue
        s_score = _subject_score(subject, fact)
        m_score = _measure_score(measure, fact)
        if want_money and fact.kind != "money":
            m_score = 0.0
        p_score = _period_score(period, fact)
        view = _view(fact)
        if s_score >= SUBJECT_THRESHOLD and m_score >= MEASURE_THRESHOLD:
            if p_score > 0:
                matches.append(QuantityMatch(fact=view, confidence=round(s_score * m_score * p_score, 3)))
            else:
                nearby.append(NearbyFact(fact=view, reason="other_period", confidence=round(s_score * m_score, 3)))
        elif s_score >= SUBJECT_THRESHOLD:
            nearby.append(NearbyFact(fact=view, reason="other_measure", confidence=round(s_score * 0.5, 3)))
        elif m_score >= MEASURE_THRESHOLD:
            nearby.append(NearbyFact(fact=view, reason="other_subject", confidence=round(m_score * 0.5, 3)))
    matches.sort(key=lambda m: (-m.confidence, m.fact.source, m.fact.start))
    nearby.sort(key=lambda n: (-n.confidence, n.fact.source, n.fact.start))
    status = "found" if matches else "not_found"
    message = (
        f"{len(matches)} fact(s) give {subject}'s {measure}."
        if matches
        else f"The documents state no {measure} for {subject}"
        + (f" in {period}" if period else "")
        + (". Nearby facts are about other subjects or measures." if nearby else ".")
    )
    return FindQuantityResult(
        status=status, query=query, matches=matches, nearby=nearby[:NEARBY_LIMIT], message=message
    ).model_dump()


def facts_about(facts: list[Fact], subject: str | None) -> list[Fact]:
    """The facts whose subject (or one of its aliases) matches a name, tolerating case and small typos.

    Args:
        facts: The facts to filter.
        subject: A name; ``None`` or empty keeps every fact.

    Returns:
        The matching facts in their original order.
    """
    if not subject or not subject.strip():
        return list(facts)
    return [f for f in facts if _subject_score(subject, f) >= SUBJECT_THRESHOLD]


def _check_query(subject: Any, measure: Any, kind: Any, period: Any) -> str | None:
    for name, value, required in (("subject", subject, True), ("measure", measure, True), ("period", period, False)):
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value.strip():
            return f"{name} must be a non-empty string"
        if len(value) > MAX_ARG_CHARS:
            return f"{name} is too long (limit {MAX_ARG_CHARS} characters)"
        if not re.search(r"[A-Za-z0-9]", value):
            return f"{name} has no letters or digits: {value!r}"
    if kind is not None and kind not in _KINDS:
        return f"kind must be one of {', '.join(_KINDS)}, not {kind!r}"
    return None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _norm_name(name: str) -> str:
    name = re.sub(r"(?:’s|'s|[’'])\b", "", name.lower())
    return " ".join(re.findall(r"[a-z0-9&]+", name))


def _acronym(name: str) -> str:
    words = name.split()
    return "".join(w[0] for w in words) if len(words) > 1 else ""


def _name_score(query: str, name: str) -> float:
    q, n = _norm_name(query), _norm_name(name)
    if not q or not n:
        return 0.0
    if q == n:
        return 1.0
    if q == _acronym(n) or n == _acronym(q):
        return 0.95
    qt, nt = set(q.split()), set(n.split())
    if qt <= nt or nt <= qt:
        return 0.85
    if min(len(q), len(n)) >= 5 and _one_edit_apart(q, n):
        return 0.85
    best = SequenceMatcher(None, q, n).ratio()
    for a in qt:
        for b in nt:
            if len(a) >= 4 and len(b) >= 4:
                best = max(best, SequenceMatcher(None, a, b).ratio() - 0.05 * (len(qt) - 1))
    return round(best * 0.9, 3) if best >= 0.85 else 0.0


def _one_edit_apart(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours ('Acme Crop' for 'Acme Corp')."""
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :])
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[i + 1 :] == shorter[i:]


def _subject_score(query: str, fact: Fact) -> float:
    score = _name_score(query, fact.subject) if fact.subject else 0.0
    for alias in fact.subject_aliases:
        score = max(score, 0.9 * _name_score(query, alias))
    return score


def _lemma_score(q: str, target: str) -> float:
    if q == target:
        return 1.0
    if any(q in group and target in group for group in _SYNONYMS):
        return 0.9
    if any(q in group and target in group for group in _RELATED):
        return 0.75
    ratio = SequenceMatcher(None, q, target).ratio()
    return 0.8 * ratio if ratio >= 0.8 and min(len(q), len(target)) >= 4 else 0.0


def measure_match(measure: str, fact: Fact) -> float:
    """How well a fact's measure (or unit) matches the words asked, 0..1 (synonyms and typos tolerated)."""
    return _measure_score(measure, fact)


def _measure_score(measure: str, fact: Fact) -> float:
    targets = [(fact.measure, 1.0), (fact.unit and measure_lemma(fact.unit), 0.95)]
    queries = {measure_lemma(measure, fuzzy=True)} | {
        measure_lemma(w, fuzzy=True) for w in _words(measure) if len(w) > 2
    }
    best = 0.0
    for target, weight in targets:
        if not target:
            continue
        for q in queries:
            best = max(best, weight * _lemma_score(q, target))
    return best


def _period_score(period: str | None, fact: Fact) -> float:
    if not period:
        return 1.0
    if not fact.period:
        return 0.7
    q, p = _norm_name(re.sub(r"(?i)^\s*(?:in|during|for)\s+(?:the\s+)?", "", period)), _norm_name(fact.period)
    if q and (q in p or p in q or SequenceMatcher(None, q, p).ratio() >= 0.8):
        return 1.0
    return 0.0


def _view(fact: Fact) -> FactView:
    return FactView(**fact.model_dump(include=set(FactView.model_fields)))


# --------------------------------------------------------------------------- convert_currency


def convert_currency(facts: list[Fact], amount: float | str, from_currency: str, to_currency: str) -> dict[str, Any]:
    """Convert an amount using only an exchange rate the documents imply.

    A rate exists when a document states one amount in two currencies in one place
    (``100 euros (about 86 pounds)``). If the amount equals one side of such a
    pair, that pair's own rate is used (so the document's figure is reproduced); otherwise
    the pair closest in size.

    Args:
        facts: The facts to take rates from.
        amount: The amount in ``from_currency``; numbers or strings like ``"200,000"``.
        from_currency: A currency name, symbol or code (``yuan``, ``RMB``, ``CNY``).
        to_currency: Likewise (``dollars``, ``U.S. dollars``, ``USD``).

    Returns:
        A dumped :class:`ConvertResult`: status converted / no_rate / error, the rate, the
        converted amount and the two facts (with spans) the rate comes from.

    """
    value = _parse_amount(amount)
    if isinstance(value, str):
        return ConvertResult(status="error", message=value).model_dump()
    codes = []
    for name in (from_currency, to_currency):
        code = currency_code(name) if isinstance(name, str) and len(name) <= MAX_ARG_CHARS else None
        if code is None:
            return ConvertResult(status="error", amount=value, message=f"unknown currency: {name!r}").model_dump()
        codes.append(code)
    src, dst = codes
    result = ConvertResult(status="no_rate", amount=value, from_currency=src, to_currency=dst)
    if src == dst:
        result.status, result.rate, result.converted, result.display = "converted", 1.0, value, _money(value, dst)
        result.message = "Same currency; nothing to convert."
        return result.model_dump()
    candidates = _rates(facts, src, dst)
    if not candidates:
        result.message = f"The documents state no {src}-{dst} rate (no amount is given in both currencies)."
        return result.model_dump()
    # Exact amount of a pair first (reproduces the document's own figure), else the closest in size.
    chosen = min(candidates, key=lambda c: (c[2] != value, abs(math.log10(max(c[2], 1e-9) / max(abs(value), 1e-9)))))
    rate, source, _ = chosen
    result.status, result.rate = "converted", rate
    result.converted = value * rate
    result.display = _money(result.converted, dst)
    result.rate_source = source
    result.other_rates = sorted({round(c[0], 8) for c in candidates if c is not chosen} - {round(rate, 8)})
    result.message = (
        f"{_money(value, src)} ≈ {result.display} at {rate:.6g} {dst}/{src}, the rate implied where "
        f"{source.from_fact.source} gives {source.from_fact.quantity_text!r} as {source.to_fact.quantity_text!r}."
    )
    return result.model_dump()


def _parse_amount(amount: Any) -> float | str:
    if isinstance(amount, bool):
        return "amount must be a number"
    if isinstance(amount, str):
        if len(amount) > 60:
            return "amount is too long"
        calc = calculate(amount)
        if not calc.ok or calc.value is None:
            return f"amount is not a number: {amount!r}"
        amount = calc.value
    if not isinstance(amount, int | float) or not math.isfinite(amount):
        return "amount must be a finite number"
    if abs(amount) > MAX_AMOUNT:
        return f"amount too large (limit {MAX_AMOUNT:g})"
    return float(amount)


def _rates(facts: list[Fact], src: str, dst: str) -> list[tuple[float, RateSource, float]]:
    """(rate, source, from-side amount) for every pair of facts linking src and dst."""
    by_id = {f.id: f for f in facts}
    out = []
    for fact in facts:
        other = by_id.get(fact.paired_with or "")
        if other is None or fact.currency != src or other.currency != dst:
            continue
        for a, b in ((fact.value, other.value), (fact.low, other.low), (fact.high, other.high)):
            if a and b:
                out.append((b / a, RateSource(rate=b / a, from_fact=_view(fact), to_fact=_view(other)), a))
    return out


def _money(value: float, code: str) -> str:
    return f"{value:,.0f} {code}" if abs(value) >= 100 else f"{value:,.2f} {code}"


# --------------------------------------------------------------------------- calculate


def calculate_expression(facts: list[Fact], expression: str) -> dict[str, Any]:
    """Evaluate arithmetic over numbers and fact ids, keeping provenance.

    Args:
        facts: Facts whose ids the expression may use as variables.
        expression: E.g. ``"f-49bc9db333 / f-97afdd778e"`` or ``"pct_change(5, 7)"``.

    Returns:
        A dumped :class:`bot.calculate.CalcResult` (``ok``, ``value``, ``error``, ``facts_used``).

    """
    if not isinstance(expression, str):
        expression = str(expression)
    return calculate(expression, {f.id: f for f in facts}).model_dump()


# --------------------------------------------------------------------------- LangChain


class FindQuantityArgs(BaseModel):
    """Arguments of the find_quantity tool."""

    subject: str = Field(description="The company, brand or thing the number is about, e.g. 'Acme'.")
    measure: str = Field(description="What is measured: 'deliveries', 'stake', 'price', 'paid', 'employees', ...")
    kind: str | None = Field(None, description=f"Optional kind of number: {', '.join(_KINDS)}.")
    period: str | None = Field(None, description="Optional period, e.g. 'November', 'third quarter', '2024'.")


class ConvertCurrencyArgs(BaseModel):
    """Arguments of the convert_currency tool."""

    amount: float | str = Field(description="The amount to convert, e.g. 200000 or '2.5 billion'.")
    from_currency: str = Field(description="Currency of the amount: name, symbol or code (yuan, RMB, CNY).")
    to_currency: str = Field(description="Target currency: name, symbol or code (dollars, USD).")


class CalculateArgs(BaseModel):
    """Arguments of the calculate tool."""

    expression: str = Field(
        description="Arithmetic with numbers ('2.5 billion', '10%') and fact ids (f-...) as variables; "
        "functions sum, min, max, mean, abs, round, pct_change(old, new), low(f), high(f)."
    )


def make_tools(get_facts: Callable[[], list[Fact]]) -> list[BaseTool]:
    """Build the LangChain tools over a fact source.

    Args:
        get_facts: Called on every tool use, so the tools always see the current index.

    Returns:
        ``[find_quantity, convert_currency, calculate]`` as ``StructuredTool`` objects whose
        results are JSON-serialisable dicts.

    """

    def facts_or_error() -> list[Fact] | str:
        try:
            return list(get_facts())
        except Exception as exc:  # a fact source failure must reach the agent as data
            return f"facts unavailable: {exc}"

    def _find(subject: str, measure: str, kind: str | None = None, period: str | None = None) -> dict[str, Any]:
        facts = facts_or_error()
        if isinstance(facts, str):
            query = {"subject": subject, "measure": measure, "kind": kind, "period": period}
            return FindQuantityResult(status="error", query=query, message=facts).model_dump()
        return find_quantity(facts, subject, measure, kind, period)

    def _convert(amount: float | str, from_currency: str, to_currency: str) -> dict[str, Any]:
        facts = facts_or_error()
        if isinstance(facts, str):
            return ConvertResult(status="error", message=facts).model_dump()
        return convert_currency(facts, amount, from_currency, to_currency)

    def _calc(expression: str) -> dict[str, Any]:
        facts = facts_or_error()
        if isinstance(facts, str):
            return {"ok": False, "expression": expression, "error": facts}
        return calculate_expression(facts, expression)

    return [
        StructuredTool.from_function(
            func=_find,
            name="find_quantity",
            description="Look up a number the documents state about a subject (deliveries, stake, price, ...). "
            "Returns status found/not_found, matches with confidence and source spans, and nearby facts "
            "about OTHER subjects or measures (never an answer for this subject).",
            args_schema=FindQuantityArgs,
            handle_validation_error=_validation_message,
        ),
        StructuredTool.from_function(
            func=_convert,
            name="convert_currency",
            description="Convert money using only an exchange rate implied by the documents (an amount given in "
            "two currencies). Returns status converted/no_rate with the cited facts.",
            args_schema=ConvertCurrencyArgs,
            handle_validation_error=_validation_message,
        ),
        StructuredTool.from_function(
            func=_calc,
            name="calculate",
            description="Safely evaluate arithmetic over numbers and fact ids, returning the value and the facts used.",
            args_schema=CalculateArgs,
            handle_validation_error=_validation_message,
        ),
    ]


def _validation_message(exc: Exception) -> str:
    return f'{{"status": "error", "message": "invalid tool arguments: {str(exc).splitlines()[0]}"}}'
