from __future__ import annotations

import json

import pytest
from langchain_core.tools import BaseTool
from pydantic import BaseModel

from bot.facts import extract_facts
from bot.models import Fact
from bot.tools import calculate_expression, convert_currency, find_quantity, make_tools
from tests._corpora import BATTERY_TEXT, SEED_TEXT


@pytest.fixture(scope="module")
def seed() -> list[Fact]:
    return extract_facts(SEED_TEXT, "huawei_auto_brand_alliances.txt")


@pytest.fixture(scope="module")
def battery() -> list[Fact]:
    return extract_facts(BATTERY_TEXT, "battery_report.txt")


def best(result: dict) -> dict:
    assert result["status"] == "found", result["message"]
    return result["matches"][0]["fact"]


# --------------------------------------------------------------------------- find_quantity, seed


@pytest.mark.parametrize("measure", ["deliveries", "delivered", "deliver", "Deliveries", "delivries"])
def test_hima_november_deliveries(seed: list[Fact], measure: str) -> None:
    r = find_quantity(seed, "HIMA", measure, period="November")
    fact = best(r)
    assert (fact["value"], fact["text"], fact["period"]) == (81864, "81,864", "November")
    assert SEED_TEXT[fact["start"] : fact["end"]] == "81,864"
    assert SEED_TEXT[fact["sentence_start"] : fact["sentence_end"]] == fact["sentence"]
    assert 0 < r["matches"][0]["confidence"] <= 1


def test_period_mismatch_is_not_an_answer(seed: list[Fact]) -> None:
    r = find_quantity(seed, "hima", "deliveries", period="December")
    assert r["status"] == "not_found" and r["matches"] == []
    assert [n["reason"] for n in r["nearby"]] == ["other_period"]


@pytest.mark.parametrize("subject", ["Changan", "Avatr", "changan", "Changan's"])
def test_changan_stake_and_price(seed: list[Fact], subject: str) -> None:
    stake = best(find_quantity(seed, subject, "stake"))
    assert (stake["value"], stake["kind"], stake["object"]) == (pytest.approx(0.10), "percent", "Yinwang")
    for measure in ("invest", "paid", "pay", "spent"):
        money = best(find_quantity(seed, subject, measure))
        assert (money["value"], money["currency"], money["object"]) == (1.15e10, "CNY", "Yinwang")


def test_seres_has_a_stake_but_no_price(seed: list[Fact]) -> None:
    stake = best(find_quantity(seed, "Seres", "ownership"))
    assert (stake["value"], stake["subject"]) == (pytest.approx(0.10), "Seres")
    for measure in ("price", "paid", "invest", "pay", "cost"):
        r = find_quantity(seed, "Seres", measure)
        assert r["status"] == "not_found", measure
        assert r["matches"] == []
        assert all(n["fact"]["subject"] != "Seres" or n["reason"] == "other_measure" for n in r["nearby"])
        assert any(n["fact"]["value"] == 1.15e10 and n["reason"] == "other_subject" for n in r["nearby"]) or (
            measure in ("price", "cost")
        )


def test_nio_is_only_a_comparison(seed: list[Fact]) -> None:
    r = find_quantity(seed, "Nio", "deliveries")
    assert r["status"] == "not_found" and r["matches"] == []
    assert r["nearby"][0]["fact"]["value"] == 81864 and r["nearby"][0]["reason"] == "other_subject"


@pytest.mark.parametrize(("subject", "measure"), [("Huawei", "brands"), ("Huawei", "lineup"), ("Huwaei", "brand")])
def test_huawei_brands_from_five_to_seven(seed: list[Fact], subject: str, measure: str) -> None:
    r = find_quantity(seed, subject, measure)
    got = sorted((m["fact"]["role"], m["fact"]["value"]) for m in r["matches"])
    assert got == [("from", 5), ("to", 7)]


def test_unknown_subject_and_kind_filter(seed: list[Fact]) -> None:
    assert find_quantity(seed, "Tesla", "deliveries")["status"] == "not_found"
    assert find_quantity(seed, "Changan", "stake", kind="money")["status"] == "not_found"
    assert best(find_quantity(seed, "Changan", "stake", kind="percent"))["value"] == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"subject": "", "measure": "stake"}, "subject"),
        ({"subject": "Seres", "measure": "   "}, "measure"),
        ({"subject": "x" * 500, "measure": "stake"}, "too long"),
        ({"subject": "!!!", "measure": "stake"}, "no letters"),
        ({"subject": "Seres", "measure": "stake", "kind": "banana"}, "kind"),
        ({"subject": None, "measure": "stake"}, "subject"),
    ],
)
def test_find_quantity_bad_input(seed: list[Fact], args: dict, fragment: str) -> None:
    r = find_quantity(seed, **args)
    assert r["status"] == "error" and fragment in r["message"]


# --------------------------------------------------------------------------- convert_currency


@pytest.mark.parametrize(("amount", "expected"), [(200_000, 28_296), (300_000, 42_444), ("250,000", 35_370)])
def test_yuan_to_dollars_uses_the_article_rate(seed: list[Fact], amount: float | str, expected: float) -> None:
    r = convert_currency(seed, amount, "yuan", "U.S. dollars")
    assert r["status"] == "converted"
    assert r["converted"] == pytest.approx(expected, abs=1)
    assert r["rate"] == pytest.approx(0.14148, rel=1e-4)
    src = r["rate_source"]
    assert src["from_fact"]["quantity_text"] == "200,000–300,000 yuan"
    assert src["to_fact"]["quantity_text"] == "28,296–42,444 U.S. dollars"
    assert SEED_TEXT[src["to_fact"]["start"] : src["to_fact"]["end"]] == "28,296–42,444"


@pytest.mark.parametrize(("src", "dst"), [("CNY", "USD"), ("RMB", "dollars"), ("yuan", "usd"), ("¥", "US$")])
def test_currency_names_and_codes(seed: list[Fact], src: str, dst: str) -> None:
    r = convert_currency(seed, 200_000, src, dst)
    assert r["status"] == "converted" and r["converted"] == pytest.approx(28_296, abs=1)


def test_reverse_direction_and_no_rate(seed: list[Fact]) -> None:
    back = convert_currency(seed, 28_296, "USD", "CNY")
    assert back["status"] == "converted" and back["converted"] == pytest.approx(200_000, abs=1)
    none = convert_currency(seed, 100, "euros", "USD")
    assert none["status"] == "no_rate" and none["converted"] is None and "no EUR-USD rate" in none["message"]


@pytest.mark.parametrize(
    ("amount", "src", "dst", "fragment"),
    [
        ("abc", "yuan", "USD", "not a number"),
        (1e30, "yuan", "USD", "too large"),
        (float("nan"), "yuan", "USD", "finite"),
        (100, "zorkmids", "USD", "unknown currency"),
        (100, "yuan", "", "unknown currency"),
        (True, "yuan", "USD", "number"),
    ],
)
def test_convert_bad_input(seed: list[Fact], amount, src: str, dst: str, fragment: str) -> None:
    r = convert_currency(seed, amount, src, dst)
    assert r["status"] == "error" and fragment in r["message"]


# --------------------------------------------------------------------------- second corpus


def test_battery_corpus_find_quantity(battery: list[Fact]) -> None:
    paid = best(find_quantity(battery, "Halvard Motors", "paid"))
    assert (paid["value"], paid["currency"], paid["object"]) == (1.2e9, "EUR", "Nordvolt Energy")
    assert best(find_quantity(battery, "Halvard", "stake"))["value"] == pytest.approx(0.15)
    assert best(find_quantity(battery, "Brightcell", "stake"))["value"] == pytest.approx(0.07)
    for measure in ("paid", "price", "invest"):
        assert find_quantity(battery, "Brightcell", measure)["status"] == "not_found"
    plants = find_quantity(battery, "Nordvolt Energy", "plants")
    assert sorted(m["fact"]["value"] for m in plants["matches"]) == [3, 5]
    assert best(find_quantity(battery, "Nordvolt", "employees"))["value"] == 12_400
    assert best(find_quantity(battery, "Kestrel Batteries", "staff"))["value"] == 3_100
    assert best(find_quantity(battery, "Nordvolt", "production", period="third quarter"))["value"] == 42.5
    revenue = find_quantity(battery, "Nordvolt", "revenue", period="2024")
    assert best(revenue)["value"] == 6.8e9
    for measure in ("output", "price", "employees"):
        assert find_quantity(battery, "Orvane", measure)["status"] == "not_found"


def test_battery_corpus_currency_pair(battery: list[Fact]) -> None:
    exact = convert_currency(battery, "1.2 billion", "EUR", "pounds")
    assert exact["converted"] == pytest.approx(1.03e9)
    small = convert_currency(battery, 95, "€", "£")
    assert small["converted"] == pytest.approx(81)
    assert small["rate_source"]["from_fact"]["quantity_text"] == "€95"
    assert len(small["other_rates"]) == 1  # the €1.2bn/£1.03bn pair implies a second rate
    assert convert_currency(battery, 95, "EUR", "USD")["status"] == "no_rate"


def test_battery_calculation(battery: list[Fact]) -> None:
    paid = best(find_quantity(battery, "Halvard Motors", "paid"))
    stake = best(find_quantity(battery, "Halvard Motors", "stake"))
    r = calculate_expression(battery, f"{paid['id']} / {stake['id']}")
    assert r["ok"] and r["value"] == pytest.approx(8e9)
    assert [u["id"] for u in r["facts_used"]] == [paid["id"], stake["id"]]


# --------------------------------------------------------------------------- LangChain tools


def test_tool_objects_and_schemas(seed: list[Fact]) -> None:
    tools = make_tools(lambda: seed)
    assert [t.name for t in tools] == ["find_quantity", "convert_currency", "calculate"]
    expected = {
        "find_quantity": {"subject", "measure", "kind", "period"},
        "convert_currency": {"amount", "from_currency", "to_currency"},
        "calculate": {"expression"},
    }
    for tool in tools:
        assert isinstance(tool, BaseTool) and tool.description
        assert isinstance(tool.args_schema, type) and issubclass(tool.args_schema, BaseModel)
        assert set(tool.args_schema.model_fields) == expected[tool.name]
        assert set(tool.args) == expected[tool.name]


def test_tools_invoke(seed: list[Fact]) -> None:
    find, convert, calc = make_tools(lambda: seed)
    r = find.invoke({"subject": "HIMA", "measure": "deliveries", "period": "November"})
    assert r["status"] == "found" and r["matches"][0]["fact"]["value"] == 81864
    json.dumps(r)
    assert find.invoke({"subject": "Seres", "measure": "price"})["status"] == "not_found"
    c = convert.invoke({"amount": 300000, "from_currency": "RMB", "to_currency": "USD"})
    assert c["converted"] == pytest.approx(42_444, abs=1)
    paid = r = find.invoke({"subject": "Changan", "measure": "invest"})["matches"][0]["fact"]
    stake = find.invoke({"subject": "Changan", "measure": "stake"})["matches"][0]["fact"]
    v = calc.invoke({"expression": f"{paid['id']} / {stake['id']}"})
    assert v["ok"] and v["value"] == pytest.approx(1.15e11)
    json.dumps(v)


def test_tools_bad_input_never_raises(seed: list[Fact]) -> None:
    find, convert, calc = make_tools(lambda: seed)
    assert calc.invoke({"expression": "__import__('os').system('x')"})["ok"] is False
    assert convert.invoke({"amount": "lots", "from_currency": "yuan", "to_currency": "USD"})["status"] == "error"
    missing = convert.invoke({"amount": 5})
    assert "error" in str(missing)
    assert find.invoke({"subject": "", "measure": "x"})["status"] == "error"


def test_tools_report_a_failing_fact_source() -> None:
    def broken() -> list[Fact]:
        raise RuntimeError("index missing")

    find, convert, calc = make_tools(broken)
    assert find.invoke({"subject": "A", "measure": "b"})["status"] == "error"
    assert "index missing" in convert.invoke({"amount": 1, "from_currency": "USD", "to_currency": "EUR"})["message"]
    assert calc.invoke({"expression": "1+1"})["ok"] is False
