"""How the grounded engine reads follow-ups, amounts, names and explanations, on corpora written here.

A made-up valley of orchards and mill towns (real index, real model). Each test pins one reading rule
with the answer's words, its citations, own words and the trust rule checked by ``test_engine.check``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import corpus_bot, make_settings
from test_engine import check
from test_engine_spans import _turn

VALLEY = """\
Larkvale - Greenhollow Cooperative delivered 5,000 crates of apples in June, ahead of Appleby Growers, \
Fernwick Orchards and Millbrook Farms.
Fernwick Orchards shipped 14.2 tonnes of Goldrush apples in the third quarter, \
up from 11.8 tonnes in the second quarter.
Oakfield Growers delivered 9,000 crates in November.
Larkvale Cooperative widened its cider range this year, unveiling “Amberfield” with Pellham Mills and \
announcing “Brightwater” with Thornbury Presses.
Under the Amberfield partnership, for example, Larkvale Cooperative handles funding, orchard planning and hiring, \
while Pellham Mills supplies the pressing technology, quality rules and training.
Brightwater cider will not depend solely on Thornbury Presses’ sales network. Instead, it will use a hybrid model \
combining farm-gate sales, online orders and village shops.
Trade sources say Corrie Brothers has invested millions of kronor into the Cedar Line project. \
Equipment may be costly, and ovens priced in the 200,000–300,000 krona range are expected.
Average apple prices at the Larkvale auction fell to 880 kronor (about 77 euros) per tonne in the quarter, \
down from 1,000 kronor a year earlier.
Halden Mill plans to take its flour brand into northern markets next spring.
Halden Mill launched its first flour brand at the Dunwold harvest fair in 1998.
Halden Mill and Corrie Brothers own a third of the cooperative's storage company.
This arrangement gives Halden Mill and Corrie Brothers a rare dual advantage: they pay storage and handling fees \
as customers of the company, yet earn dividends from those same fees as its shareholders.
Against this backdrop, Ashford millers Halden Mill and Corrie Brothers have \
strengthened their ties with the cooperative.
Older labels, such as Corrie Brothers’ Bluecap as well as Halden Mill’s Sunsheaf, \
now face competition from imported flour.
Halden Mill will build a new milling plant in Dunwold at a cost of 45 million kronor.
"""

NORRBY = """\
The Norrby mill sold its rye flour at 2,300 kronor (about 200 euros) per tonne last winter.
"""

RIVALS = "Which growers did Greenhollow Cooperative finish ahead of in June?"
LISTED = [
    {"role": "user", "content": RIVALS},
    {"role": "assistant", "content": "Appleby Growers, Fernwick Orchards and Millbrook Farms [1]."},
]


@pytest.fixture
def valley_bot(tmp_path: Path, embeddings):
    return corpus_bot(tmp_path, embeddings, "valley", VALLEY)


@pytest.fixture
def two_reports_bot(tmp_path: Path, embeddings):
    """A Bot over two documents, built like ``conftest.corpus_bot``."""
    from bot.indexer import sync_index
    from bot.service import Bot
    from bot.store import Store

    docs = tmp_path / "reports"
    docs.mkdir()
    (docs / "valley.txt").write_text(VALLEY, encoding="utf-8")
    (docs / "norrby.txt").write_text(NORRBY, encoding="utf-8")
    settings = make_settings(docs, tmp_path / "reports-index")
    store = Store.open(settings)
    sync_index(settings, store=store, embedder=embeddings)
    return Bot(settings, store=store, embeddings=embeddings)


def test_the_first_one_is_the_first_listed_and_a_figure_of_another_subject_is_refused(valley_bot) -> None:
    first = valley_bot.ask(RIVALS)
    check(first, r"^Appleby Growers, Fernwick Orchards and Millbrook Farms \[1\]\.$")
    follow = valley_bot.ask("How many crates did the first one deliver in June?", _turn(first))
    check(follow, r"^The documents do not say", refused=True)  # the 5,000 crates are Greenhollow's
    assert follow.resolved_question == "How many crates did Appleby Growers deliver in June?"


@pytest.mark.parametrize(
    ("question", "resolved"),
    [
        ("Which one is the latter?", "Which one is Millbrook Farms?"),
        ("How many crates did the second one deliver?", "How many crates did Fernwick Orchards deliver?"),
        ("Where is the last of them based?", "Where is Millbrook Farms based?"),
        ("What does the former grow?", "What does Appleby Growers grow?"),
    ],
)
def test_an_ordinal_points_into_the_listed_answer(question: str, resolved: str) -> None:
    from bot.engine.conversation import resolve

    r = resolve(question, LISTED)
    assert r.text == resolved
    assert r.pinned  # the name was pointed at, not guessed


def test_how_much_names_the_thing_and_last_quarter_is_the_newer_figure(valley_bot) -> None:
    check(valley_bot.ask("How much Goldrush did fernwick orchards shipp last quarter?"), r"^14\.2 tonnes \[1\]\.$")


def test_an_average_per_day_divides_by_the_days_of_the_month(valley_bot) -> None:
    a = valley_bot.ask("On average, how many crates did Oakfield Growers deliver per day in November?")
    check(a, r"^About 300 crates a day: 9,000 crates ÷ 30 days in November \[1\]\.$")
    assert [t.name for t in a.tool_calls] == ["calculate"]


def test_a_contracted_copula_asks_for_the_partner_named_with_the_project(valley_bot) -> None:
    check(valley_bot.ask("who's the partner company for brightwater??"), r"^Thornbury Presses \[1\]\.$")


def test_a_sentence_naming_nobody_continues_the_one_before(valley_bot) -> None:
    a = valley_bot.ask("What's the price bracket for Cedar Line ovens?")
    check(a, r"^200,000–300,000 krona \[1\]\.$")
    assert "ovens priced" in a.citations[0].quote
    a = valley_bot.ask("Roughly how much has Corrie Brothers put into the Cedar Line project?")
    check(a, r"^Millions of kronor \[1\]\.$")  # not the carried-over oven prices of the next sentence


def test_a_conversion_converts_the_amount_the_question_places(valley_bot) -> None:
    a = valley_bot.ask("What was the price a year earlier in euros per tonne?")
    check(a, r"^About 87\.5 euros: 1,000 kronor at the documents' rate of 880 kronor = 77 euros \[1\]\.$")


def test_an_exchange_rate_is_read_from_each_document(two_reports_bot) -> None:
    a = two_reports_bot.ask("What krona to euro exchange rate do the reports use?")
    check(a, r"^About 0\.0875 euros per \w+ \(11\.43 the other way\)", r"\[1\].*\[2\]\.$")
    assert len({c.source for c in a.citations}) == 2, a.citations
    assert re.search(r"\d\.\d+ euros per", a.text.split("[")[0])


def test_a_name_written_as_the_owners_own_answers_its_brand(valley_bot) -> None:
    check(valley_bot.ask("What is Halden Mill's flour brand called?"), r"^Sunsheaf \[1\]\.$")


def test_a_place_before_the_asked_names_is_where_they_are_based(valley_bot) -> None:
    a = valley_bot.ask("Which town are Halden Mill and Corrie Brothers based in?")
    check(a, r"^Ashford \[1\]\.$")
    assert "Ashford millers" in a.citations[0].quote


def test_an_explanation_after_a_colon_runs_to_the_end_of_the_sentence(valley_bot) -> None:
    a = valley_bot.ask("Why do Halden Mill and Corrie Brothers have a dual advantage?")
    check(a, r"^They pay storage and handling fees .*, yet earn dividends .* shareholders \[1\]\[2\]\.$")


def test_a_two_part_question_gets_both_parts(valley_bot) -> None:
    q = "In the Amberfield partnership, what does Larkvale Cooperative handle and what does Pellham Mills bring?"
    check(valley_bot.ask(q), r"funding", r"technology", r"\[1\]\.$")


def test_what_happens_instead_answers_how(valley_bot) -> None:
    a = valley_bot.ask("How will Brightwater cider be sold?")
    check(a, r"^It will use a hybrid model combining farm-gate sales, online orders and village shops \[1\]\[2\]\.$")
    assert "will not depend" in a.citations[0].quote and a.citations[1].quote.startswith("Instead")


def test_a_new_plant_is_no_change_over_time(valley_bot) -> None:
    a = valley_bot.ask("How much will Halden Mill's new plant cost?")
    check(a, r"^45 million kronor \[1\]\.$")
    assert a.tool_calls == []
