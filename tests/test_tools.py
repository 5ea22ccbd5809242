"""The structured tools (:mod:`bot.tools`) over real indexes of the seed article and a made-up report.

Each index is built with the real embedding model, as ``bot index`` builds it; the tools search its
evidence, so every match is checked against the document text it claims to quote.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from conftest import corpus_bot
from langchain_core.tools import BaseTool
from pydantic import BaseModel

from bot.engine.index import IndexView
from bot.tools import (
    CalculateArgs,
    ConvertCurrencyArgs,
    FindQuantityArgs,
    calculate_expression,
    convert_currency,
    find_quantity,
    make_tools,
)
from tests._corpora import BATTERY_TEXT, SEED_TEXT

SEED_SOURCE = "huawei_auto_brand_alliances.txt"
BATTERY_SOURCE = "battery_report.txt"
TEXTS = {SEED_SOURCE: SEED_TEXT, BATTERY_SOURCE: BATTERY_TEXT}


def _module_bot(tmp_path_factory: pytest.TempPathFactory, embeddings: Any, source: str) -> Any:
    with pytest.MonkeyPatch.context() as mp:  # no BOT_* setting of the developer's shell leaks in
        for name in [k for k in os.environ if k.startswith("BOT_")]:
            mp.delenv(name)
        return corpus_bot(tmp_path_factory.mktemp("tools"), embeddings, source.removesuffix(".txt"), TEXTS[source])


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, embeddings: Any) -> IndexView:
    return _module_bot(tmp_path_factory, embeddings, SEED_SOURCE).engine_index


@pytest.fixture(scope="module")
def battery(tmp_path_factory: pytest.TempPathFactory, embeddings: Any) -> IndexView:
    return _module_bot(tmp_path_factory, embeddings, BATTERY_SOURCE).engine_index


def exact(item: dict[str, Any]) -> dict[str, Any]:
    """Check that a returned quantity quotes its document exactly; return it."""
    text = TEXTS[item["source"]]
    assert text[item["start"] : item["end"]] == item["text"]
    assert text[item["sentence_start"] : item["sentence_end"]] == item["sentence"]
    assert item["sentence_start"] <= item["start"] < item["end"] <= item["sentence_end"]
    return item


def found(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The matches of a found result, each checked for exact spans."""
    assert result["status"] == "found", result
    assert result["matches"]
    json.dumps(result)  # a tool message must be JSON
    for item in result["matches"] + result["nearby"]:
        exact(item)
    return result["matches"]


def not_found(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The nearby quantities of a not_found result, each checked for exact spans."""
    assert result["status"] == "not_found", result["matches"]
    assert result["matches"] == []
    json.dumps(result)
    return [exact(item) for item in result["nearby"]]


# --------------------------------------------------------------------------- find_quantity, seed


@pytest.mark.parametrize("measure", ["deliveries", "delivered", "deliver", "Deliveries"])
@pytest.mark.parametrize("period", [None, "November"])
def test_hima_deliveries(seed: IndexView, measure: str, period: str | None) -> None:
    r = find_quantity(seed, "HIMA", measure, period=period)
    best = found(r)[0]
    assert (best["text"], best["value"], best["kind"], best["unit"]) == ("81,864 vehicles", 81_864, "count", "vehicle")
    assert (best["source"], best["subject"], best["measure"]) == (
        SEED_SOURCE,
        "Harmony Intelligent Mobility Alliance",
        "deliver",
    )
    assert "(HIMA) delivered 81,864 vehicles in November" in best["sentence"]
    assert r["query"] == {"subject": "HIMA", "measure": measure, "kind": None, "period": period}


def test_another_period_is_not_an_answer(seed: IndexView) -> None:
    nearby = not_found(find_quantity(seed, "HIMA", "deliveries", period="December"))
    assert "81,864 vehicles" in [n["text"] for n in nearby]


@pytest.mark.parametrize("subject", ["Nio", "Xpeng", "Li Auto"])
def test_a_compared_rival_is_not_the_subject(seed: IndexView, subject: str) -> None:
    """ "... delivered 81,864 vehicles in November, surpassing ... Nio, Xpeng, and Li Auto": HIMA's number."""
    nearby = not_found(find_quantity(seed, subject, "deliveries"))
    hima = [n for n in nearby if n["text"] == "81,864 vehicles"]
    assert hima and hima[0]["subject"] == "Harmony Intelligent Mobility Alliance"


@pytest.mark.parametrize("subject", ["Changan", "changan", "Changan's"])
def test_changan_stake_and_investment(seed: IndexView, subject: str) -> None:
    stake = found(find_quantity(seed, subject, "stake"))
    assert (stake[0]["text"], stake[0]["value"], stake[0]["kind"], stake[0]["subject"]) == (
        "10 percent",
        10,
        "percent",
        "Changan",
    )
    assert {m["subject"] for m in stake} == {"Changan"}  # Seres' 10 percent of the same sentence is not Changan's
    money = found(find_quantity(seed, subject, "invested"))
    assert (money[0]["text"], money[0]["value"], money[0]["currency"]) == ("11.5 billion yuan", 1.15e10, "CNY")


def test_seres_has_a_stake_but_no_price(seed: IndexView) -> None:
    stake = found(find_quantity(seed, "Seres", "stake"))
    assert [(m["text"], m["subject"]) for m in stake] == [("10 percent", "Seres")]
    changan_stake = found(find_quantity(seed, "Changan", "stake"))[0]
    assert stake[0]["start"] > changan_stake["start"]  # the second "10 percent" of the sentence
    for measure in ("price", "paid"):
        nearby = not_found(find_quantity(seed, "Seres", measure))
        assert any(n["text"] == "11.5 billion yuan" and n["subject"] == "Changan" for n in nearby), measure


def test_huawei_brands_from_five_to_seven(seed: IndexView) -> None:
    (brands,) = found(find_quantity(seed, "Huawei", "brands"))
    assert (brands["text"], brands["low"], brands["high"], brands["value"]) == ("five to seven brands", 5, 7, None)


def test_kind_filter(seed: IndexView) -> None:
    percent = found(find_quantity(seed, "Changan", "stake", kind="percent"))
    assert {m["kind"] for m in percent} == {"percent"}
    money = found(find_quantity(seed, "Changan", "stake", kind="money"))
    assert {m["kind"] for m in money} == {"money"}
    not_found(find_quantity(seed, "HIMA", "deliveries", kind="money"))


@pytest.mark.parametrize(("subject", "measure"), [("Tesla", "deliveries"), ("Yinwang", "deliveries")])
def test_unknown_subjects_are_not_found(seed: IndexView, subject: str, measure: str) -> None:
    not_found(find_quantity(seed, subject, measure))


@pytest.mark.parametrize(
    ("subject", "measure", "fragment"),
    [("", "", "subject and measure are empty"), ("", "stake", "subject is empty"), ("!!!", "stake", "subject")],
)
def test_find_quantity_without_a_subject(seed: IndexView, subject: str, measure: str, fragment: str) -> None:
    r = find_quantity(seed, subject, measure)
    assert r["status"] == "error" and fragment in r["message"]


# --------------------------------------------------------------------------- find_quantity, second corpus


def test_battery_stakes_payments_and_rivals(battery: IndexView) -> None:
    paid = found(find_quantity(battery, "Halvard Motors", "paid"))
    assert (paid[0]["text"], paid[0]["currency"], paid[0]["subject"]) == ("€1.2 billion", "EUR", "Halvard Motors")
    stake = found(find_quantity(battery, "Halvard", "stake"))
    assert (stake[0]["text"], stake[0]["value"]) == ("15 percent", 15)
    bright = found(find_quantity(battery, "Brightcell", "stake"))
    assert [(m["text"], m["subject"]) for m in bright] == [("7%", "Brightcell")]
    # "..., but it did not disclose what it paid": the stake is not a price
    nearby = not_found(find_quantity(battery, "Brightcell", "paid"))
    assert all(n["subject"] != "Brightcell" or n["kind"] != "money" for n in nearby)
    # "... analysts note that Orvane, a Chinese supplier, charges less": Nordvolt's price is not Orvane's
    not_found(find_quantity(battery, "Orvane", "price"))


def test_battery_subjects_of_one_sentence(battery: IndexView) -> None:
    """ "Nordvolt employs 12,400 people across its sites, while Kestrel Batteries employs roughly 3,100." """
    kestrel = found(find_quantity(battery, "Kestrel Batteries", "employs"))
    assert [(m["text"], m["value"]) for m in kestrel] == [("3,100", 3100)]
    nordvolt = found(find_quantity(battery, "Nordvolt", "employs"))
    assert nordvolt[0]["text"] == "12,400 people"
    assert "3,100" not in [m["text"] for m in nordvolt]


def test_battery_plants_range(battery: IndexView) -> None:
    plants = found(find_quantity(battery, "Nordvolt Energy", "plants"))
    assert (plants[0]["text"], plants[0]["low"], plants[0]["high"]) == ("three to five plants", 3, 5)


# --------------------------------------------------------------------------- convert_currency


@pytest.mark.parametrize(("amount", "expected"), [(200_000, 28_296), (300_000, 42_444), (250_000, 35_370)])
def test_yuan_to_dollars_at_the_article_rate(seed: IndexView, amount: float, expected: float) -> None:
    r = convert_currency(seed, amount, "yuan", "U.S. dollars")
    assert r["status"] == "converted" and (r["from"], r["to"]) == ("CNY", "USD")
    assert r["converted"] == pytest.approx(expected, abs=1)
    assert r["rate"] == pytest.approx(28_296 / 200_000)
    src = r["rate_source"]
    assert (exact(src["from"])["text"], exact(src["to"])["text"]) == (
        "200,000–300,000 yuan",
        "28,296–42,444 U.S. dollars",
    )
    json.dumps(r)


@pytest.mark.parametrize(
    ("src", "dst"), [("CNY", "USD"), ("RMB", "dollars"), ("yuan", "usd"), ("¥", "US$"), ("renminbi", "$")]
)
def test_currency_names_symbols_and_codes(seed: IndexView, src: str, dst: str) -> None:
    r = convert_currency(seed, 200_000, src, dst)
    assert r["status"] == "converted" and r["converted"] == pytest.approx(28_296, abs=1)


def test_dollars_back_to_yuan(seed: IndexView) -> None:
    r = convert_currency(seed, 28_296, "USD", "CNY")
    assert r["status"] == "converted" and r["converted"] == pytest.approx(200_000, abs=1)
    assert r["rate_source"]["from"]["currency"] == "USD"


@pytest.mark.parametrize(("src", "dst"), [("yuan", "euros"), ("USD", "EUR"), ("kronor", "yuan")])
def test_no_rate_for_a_pair_the_documents_never_state(seed: IndexView, src: str, dst: str) -> None:
    r = convert_currency(seed, 100, src, dst)
    assert r["status"] == "no_rate" and "converted" not in r
    assert "no amount in both" in r["message"]


def test_unknown_and_equal_currencies(seed: IndexView) -> None:
    bad = convert_currency(seed, 100, "zorkmids", "USD")
    assert bad["status"] == "error" and "zorkmids" in bad["message"]
    same = convert_currency(seed, 5, "dollars", "USD")
    assert (same["status"], same["converted"], same["rate"]) == ("converted", 5, 1.0)


def test_battery_euro_pound_rate(battery: IndexView) -> None:
    r = convert_currency(battery, 95, "€", "pounds")
    assert r["status"] == "converted"
    src, dst = exact(r["rate_source"]["from"]), exact(r["rate_source"]["to"])
    assert (src["currency"], dst["currency"]) == ("EUR", "GBP")
    assert (src["text"], dst["text"]) in {("€95", "£81"), ("€1.2 billion", "£1.03 billion")}
    assert r["rate"] == pytest.approx(dst["value"] / src["value"])
    assert r["converted"] == pytest.approx(95 * r["rate"])
    assert convert_currency(battery, 95, "EUR", "USD")["status"] == "no_rate"


# --------------------------------------------------------------------------- calculate


@pytest.mark.parametrize(
    ("expression", "value"), [("2.5 billion / 10%", 2.5e10), ("pct_change(5, 7)", 40.0), ("81,864 * 2", 163_728)]
)
def test_calculate_expression(expression: str, value: float) -> None:
    r = calculate_expression(expression)
    assert r["ok"] and r["value"] == pytest.approx(value)
    json.dumps(r)


def test_calculate_errors_are_data() -> None:
    r = calculate_expression("__import__('os').system('x')")
    assert r["ok"] is False and r["value"] is None and r["error"]


# --------------------------------------------------------------------------- LangChain tools


EXPECTED_ARGS = {
    "find_quantity": ({"subject", "measure", "kind", "period"}, FindQuantityArgs),
    "convert_currency": ({"amount", "from_currency", "to_currency"}, ConvertCurrencyArgs),
    "calculate": ({"expression"}, CalculateArgs),
}


def test_tool_objects_and_schemas(seed: IndexView) -> None:
    tools = make_tools(seed)
    assert [t.name for t in tools] == ["find_quantity", "convert_currency", "calculate"]
    for tool in tools:
        fields, schema = EXPECTED_ARGS[tool.name]
        assert isinstance(tool, BaseTool) and len(tool.description) > 20
        assert tool.args_schema is schema and issubclass(schema, BaseModel)
        assert set(schema.model_fields) == fields == set(tool.args)
        assert all(tool.args[f].get("description") for f in fields)  # a model reads these
    find = tools[0]
    assert set(find.args["kind"]["anyOf"][0]["enum"]) >= {"count", "money", "percent", "date"}
    assert "nearby" in find.description


def test_tools_invoke_over_the_seed_bot(seed_bot: Any) -> None:
    """The fixture Bot of conftest.py: its engine index is what the tool-calling engines bind."""
    find, convert, calc = make_tools(seed_bot.engine_index)
    r = find.invoke({"subject": "HIMA", "measure": "deliveries", "period": "November"})
    best = found(r)[0]
    assert best["value"] == 81_864 and best["source"] == SEED_SOURCE
    not_found(find.invoke({"subject": "Seres", "measure": "price"}))
    c = convert.invoke({"amount": 300_000, "from_currency": "RMB", "to_currency": "USD"})
    assert c["status"] == "converted" and c["converted"] == pytest.approx(42_444, abs=1)
    v = calc.invoke({"expression": f"{best['value']:g} / 30"})
    assert v["ok"] and v["value"] == pytest.approx(2728.8)
    assert convert.invoke({"amount": 100, "from_currency": "yuan", "to_currency": "euros"})["status"] == "no_rate"


@pytest.mark.parametrize(
    ("tool_name", "args", "field"),
    [
        ("convert_currency", {"amount": "lots", "from_currency": "yuan", "to_currency": "USD"}, "amount"),
        ("convert_currency", {"amount": -5, "from_currency": "yuan", "to_currency": "USD"}, "amount"),
        ("convert_currency", {"amount": 5}, "from_currency"),
        ("find_quantity", {"subject": "x" * 500, "measure": "stake"}, "subject"),
        ("find_quantity", {"subject": "Seres", "measure": "stake", "kind": "banana"}, "kind"),
        ("find_quantity", {"measure": "stake"}, "subject"),
        ("calculate", {"expression": "1+" * 300}, "expression"),
    ],
)
def test_schema_validation_errors_come_back_as_data(
    seed: IndexView, tool_name: str, args: dict[str, Any], field: str
) -> None:
    tool = {t.name: t for t in make_tools(seed)}[tool_name]
    out = tool.invoke(args)  # never raises
    result = json.loads(out)
    assert result["status"] == "error"
    assert result["message"].startswith("invalid tool arguments:") and field in result["message"]


def test_unsafe_expression_through_the_tool(seed: IndexView) -> None:
    calc = make_tools(seed)[2]
    r = calc.invoke({"expression": "open('/etc/passwd').read()"})
    assert r["ok"] is False and r["value"] is None
