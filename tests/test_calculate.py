"""The safe evaluator (:mod:`bot.calculate`): plain arithmetic, fact ids of real extracted facts, errors as data."""

from __future__ import annotations

import pytest

from bot.calculate import CalcResult, calculate
from bot.facts import extract_facts
from bot.models import Fact
from tests._corpora import SEED_TEXT


@pytest.fixture(scope="module")
def facts() -> dict[str, Fact]:
    return {f.id: f for f in extract_facts(SEED_TEXT, "seed.txt")}


def by_quantity(
    facts: dict[str, Fact], quantity_text: str, subject: str | None = None, role: str | None = None
) -> Fact:
    found = [
        f
        for f in facts.values()
        if f.quantity_text == quantity_text and (subject is None or f.subject == subject) and f.role == role
    ]
    assert len(found) == 1, [(f.quantity_text, f.subject, f.role) for f in facts.values()]
    return found[0]


def test_fact_ids_are_variables_with_provenance(facts: dict[str, Fact]) -> None:
    paid = by_quantity(facts, "11.5 billion yuan")
    r = calculate(f"{paid.id} * 2", facts)
    assert r.ok and r.value == pytest.approx(2.3e10)
    assert r.display == "23,000,000,000"
    assert r.normalized_expression == "_fact0 * 2"
    (used,) = r.facts_used
    assert (used.id, used.source, used.value_used) == (paid.id, "seed.txt", 1.15e10)
    assert SEED_TEXT[used.start : used.end] == used.text == "11.5 billion yuan"
    assert "Yinwang" in used.sentence


def test_fact_ids_mix_with_numbers(facts: dict[str, Fact]) -> None:
    paid = by_quantity(facts, "11.5 billion yuan")
    hima = by_quantity(facts, "81,864 vehicles")
    r = calculate(f"{paid.id} / 10% + {hima.id} - 81,864", facts)
    assert r.ok and r.value == pytest.approx(1.15e11)
    assert [u.id for u in r.facts_used] == [paid.id, hima.id]


def test_combined_stake_with_sum(facts: dict[str, Fact]) -> None:
    a = by_quantity(facts, "10 percent", "Changan")
    b = by_quantity(facts, "10 percent", "Seres")
    r = calculate(f"sum({a.id}, {b.id})", facts)
    # a percent fact counts as the share it states, like the literal "10%": 10% + 10% = 0.20
    assert r.ok and r.value == pytest.approx(0.20) == calculate("10% + 10%").value
    assert {u.id for u in r.facts_used} == {a.id, b.id}


def test_implied_valuation_from_a_price_and_a_stake(facts: dict[str, Fact]) -> None:
    paid = by_quantity(facts, "11.5 billion yuan")
    stake = by_quantity(facts, "10 percent", "Changan")
    assert calculate(f"{paid.id} / {stake.id}", facts).value == pytest.approx(calculate("11.5 billion / 10%").value)


def test_pct_change_from_the_ends_of_a_change(facts: dict[str, Fact]) -> None:
    five = by_quantity(facts, "five to seven brands", role="from")
    seven = by_quantity(facts, "five to seven brands", role="to")
    assert (five.value, seven.value) == (5, 7)
    r = calculate(f"pct_change({five.id}, {seven.id})", facts)
    assert r.ok and r.value == pytest.approx(40.0)
    assert [u.value_used for u in r.facts_used] == [5, 7]


def test_range_ends(facts: dict[str, Fact]) -> None:
    rng = by_quantity(facts, "200,000–300,000 yuan")
    spread = calculate(f"high({rng.id}) - low({rng.id})", facts)
    assert spread.ok and spread.value == 100_000
    usd = by_quantity(facts, "28,296–42,444 U.S. dollars")
    rate = calculate(f"low({usd.id}) / low({rng.id})", facts)
    assert rate.ok and rate.value == pytest.approx(0.14148)
    bare = calculate(rng.id, facts)
    assert not bare.ok and "range" in (bare.error or "")
    single = by_quantity(facts, "81,864 vehicles")
    assert calculate(f"low({single.id})", facts).value == 81_864  # a single value is both its ends


def test_range_functions_need_a_fact_id(facts: dict[str, Fact]) -> None:
    r = calculate("low(5)", facts)
    assert not r.ok and "one fact id" in (r.error or "")


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("11.5 billion / 10%", 1.15e11),
        ("81,864 * 2", 163_728),
        ("round(2 / 3, 2)", 0.67),
        ("max(1, 5, 3) - min([4, 2])", 3),
        ("2 ** 10", 1024),
        ("-(3 + 4) * 2", -14),
        ("mean(2, 4)", 3),
        ("25 percent", 0.25),
        ("7 // 2", 3),
    ],
)
def test_plain_arithmetic(expression: str, value: float) -> None:
    r = calculate(expression)
    assert r.ok, r.error
    assert r.value == pytest.approx(value)


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("f-0000000000 * 2", "unknown fact id"),
        ("hello world", "not a valid"),
        ("banana", "unknown name"),
        ("1 / 0", "division by zero"),
        ("5 // 0", "division by zero"),
        ("10**10**10", "exponent too large"),
        ("1e300 * 1e300", "too large"),
        ("9" * 400, "too large"),
        ("__import__('os').system('x')", "only simple calls"),
        ("(1).real", "Attribute"),
        ("(lambda: 1)()", "only simple calls"),
        ("lambda: 1", "Lambda"),
        ("'a' * 3", "only numbers"),
        ("open('/etc/passwd')", "unknown function"),
        ("exec('1')", "unknown function"),
        ("x" * 600, "too long"),
        ("", "empty"),
        ("[1, 2]", "single number"),
        ("pct_change(0, 5)", "undefined"),
        ("round(1.5, 99)", "digits"),
        ("True + 1", "only numbers"),
    ],
)
def test_bad_input_is_a_structured_error(expression: str, fragment: str, facts: dict[str, Fact]) -> None:
    r = calculate(expression, facts)
    assert isinstance(r, CalcResult)
    assert r.ok is False and r.value is None
    assert fragment.lower() in r.error.lower(), r.error


def test_result_is_json_serialisable(facts: dict[str, Fact]) -> None:
    import json

    paid = by_quantity(facts, "11.5 billion yuan")
    dumped = json.loads(json.dumps(calculate(f"{paid.id} * 2", facts).model_dump()))
    assert dumped["ok"] and dumped["facts_used"][0]["id"] == paid.id
