"""How the grounded engine reads follow-ups, amounts, names and explanations, on corpora written here.

A made-up valley of orchards and mill towns (real index, real model). Each test pins one reading rule
with the answer's words, its citations, own words and the trust rule checked by ``test_engine.check``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import corpus_bot
from test_engine import check, tier_words
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

TALES = """\
The poet Mirabel Quayle wrote most of her ballads by lamplight.
"Coldmere was where the poet lived," said Osric Fenn, "and her cottage still stands beside the old mill race."
Tobias Wren, the mayor's ex-gardener, kept the keys to the glasshouse.
Nell Ashby, the former cook at the manor, kept the recipe book in her apron.
Maud Perrow took a jug of water that stood on the table and went out on the terrace to water her herbs.
Early in the morning Captain Ansel Dray received a note from Hester Lume, begging him to come to the harbour \
before the tide turned.
"Good morning, Mr. Pemberly," said Mr. Oakes, lifting his hat as the ferry came in.
"""

GAZETTE = """\
Contributor Perrin Hale is known for popularising the term “the quiet furrow”, which describes fields left \
unploughed for a season.
The Larkvale Almanac, a pocket guide to tides and planting days, has been in print since March/April 1987.
Councillor Marek Tolvin spoke to the Evening Courier on Tuesday about the bridge closure.
Jory Tull hired the law firm GPW to fight the eviction from his boatyard.
"I filed the papers on Sunday night at the county court," Tull said, "and nobody has called me since."
Marrow Press has published the first volume of Odile Varnay's sprawling novel “The Salt Meadows,” and Piet \
Holloway, the book's translator, says the second volume will follow next spring.
The painter Corin Ashdown made his first prints in a barn on the 600-acre farm his family has worked since 1902.
Fenland Gazette has 3 million readers. Its web traffic is about 8 million visitors per month. \
Moorside Post has nearly 21 million.
The county grain board was told this week to overhaul its inspection rules.
Officials said it will take four to seven months for the board to carry out all the steps.
"""

KITCHEN = """\
Spring greens pie
For the filling you will need 4 eggs1 pound of spinach2 lemons and a pinch of salt.
Bake the pie for forty minutes.
The best kettle for most people is the Stillwater K7 ($40).
The K7 boils faster than most kettles that cost $90 or more.
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
def tales_bot(tmp_path: Path, embeddings):
    return corpus_bot(tmp_path, embeddings, "tales", TALES)


@pytest.fixture
def gazette_bot(tmp_path: Path, embeddings):
    return corpus_bot(tmp_path, embeddings, "gazette", GAZETTE)


@pytest.fixture
def kitchen_bot(tmp_path: Path, embeddings):
    return corpus_bot(tmp_path, embeddings, "kitchen", KITCHEN)


@pytest.fixture
def two_reports_bot(tmp_path: Path, embeddings):
    return corpus_bot(tmp_path, embeddings, "valley", VALLEY, {"norrby": NORRBY})


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


# -- who, where and what people did (TALES) ---------------------------------------------------------------------------
def test_a_speaker_is_not_the_place_his_quote_names(tales_bot) -> None:
    a = tales_bot.ask("Where did the poet live?")
    check(a, r"^(?:In )?Coldmere(?: was where the poet lived)? \[1\]\.$")
    assert "Fenn" not in a.claim and "Osric" not in a.claim


def test_his_job_is_the_former_one_the_text_gives(tales_bot) -> None:
    keys = tales_bot.ask("Who kept the keys to the glasshouse?")
    check(keys, r"^Tobias Wren \[1\]\.$")
    job = tales_bot.ask("What was his job?", _turn(keys))
    check(job, r"^Gardener \[1\]\.$")  # "the mayor's ex-gardener"
    assert job.resolved_question == "What was Tobias Wren's job?"
    book = tales_bot.ask("Who kept the recipe book?")
    check(tales_bot.ask("What was her job?", _turn(book)), r"^Cook \[1\]\.$")  # "the former cook at the manor"


def test_where_someone_went_is_the_place_after_the_preposition(tales_bot) -> None:
    jug = tales_bot.ask("Who took the jug?")
    check(jug, r"^Maud Perrow \[1\]\.$")
    went = tales_bot.ask("Where did she go?", _turn(jug))
    check(went, r"^On the terrace \[1\]\.$")  # not the table the jug stood on
    assert went.resolved_question == "Where did Maud Perrow go?"


def test_from_who_asks_for_the_name_after_from(tales_bot) -> None:
    note = tales_bot.ask("Who received a note?")
    check(note, r"^Captain Ansel Dray \[1\]\.$")
    check(tales_bot.ask("From who?", _turn(note)), r"^Hester Lume \[1\]\.$")


def test_a_title_is_no_shared_name(tales_bot) -> None:
    check(tales_bot.ask("Who greeted Mr. Pemberly?"), r"^Mr\. Oakes \[1\]\.$")


# -- news items (GAZETTE) ---------------------------------------------------------------------------------------------
def test_known_for_answers_what_they_did_with_the_quoted_term_whole(gazette_bot) -> None:
    a = gazette_bot.ask("What is Perrin Hale known for?")
    # the term's own quotation marks are part of the answer here, so ``check`` (no quoted passages) does not apply
    tier_words(a)
    assert a.claim is not None and not a.flags, (a.text, a.flags)
    assert re.fullmatch(r"Popularising the term “the quiet furrow” \[1\]\.", a.claim), a.claim
    assert "known for popularising" in a.citations[0].quote


def test_a_month_range_keeps_its_year(gazette_bot) -> None:
    check(gazette_bot.ask("Since when has the almanac been in print?"), r"^Since March/April 1987 \[1\]\.$")


def test_an_earlier_question_is_read_with_its_typo_corrected(gazette_bot) -> None:
    first = gazette_bot.ask("Did Tolvan speak to the Evening Courier?")
    check(first, r"^Yes\b")
    history = _turn(first)
    assert "Tolvan" in history[0]["content"]  # the conversation carries the typo
    a = gazette_bot.ask("Who did he speak to?", history)
    assert a.resolved_question == "Who did Tolvin speak to?"
    check(a, r"^(?:The )?Evening Courier \[1\]\.$")  # whom he spoke to, not the councillor himself
    plain = [
        {"role": "user", "content": "Did Tolvan speak to the Evening Courier?"},
        {"role": "assistant", "content": "Yes."},
    ]
    a = gazette_bot.ask("Who did he speak to?", plain)  # no citation to say where the conversation is
    assert a.resolved_question == "Who did Tolvin speak to?"
    check(a, r"^(?:The )?Evening Courier \[1\]\.$")


def test_he_is_never_an_acronym(gazette_bot) -> None:
    from bot.engine.conversation import resolve

    history = [
        {"role": "user", "content": "Which law firm did Jory Tull hire?"},
        {"role": "assistant", "content": "GPW [1]."},
    ]
    q = "Where did he say he filed the papers?"
    assert "GPW" not in resolve(q, history).text
    a = gazette_bot.ask(q, history)
    assert "GPW" not in a.resolved_question and "Tull" in a.resolved_question
    check(a, r"^At the county court \[1\]\.$")


def test_he_after_a_who_answer_without_a_name_stays_he() -> None:
    from bot.engine.conversation import resolve

    history = [
        {"role": "user", "content": "Who is the Brackwater River Board's chief counsel?"},
        {"role": "assistant", "content": "Order Monday freezing the funds [1]."},
    ]
    # "he" is the unnamed counsel, not the board the question named
    assert resolve("Who did he file a claim against?", history).text == "Who did he file a claim against?"


def test_a_weekday_is_no_place(gazette_bot) -> None:
    a = gazette_bot.ask("Where did Tull file the papers?")
    check(a, r"^At the county court \[1\]\.$")  # "on Sunday night" says when
    assert "Sunday" not in a.claim


def test_the_author_is_the_possessive_before_the_title(gazette_bot) -> None:
    a = gazette_bot.ask("Who wrote The Salt Meadows?")
    check(a, r"^Odile Varnay \[1\]\.$")  # not the translator named nearer the title's end


def test_a_selling_price_is_not_an_acreage(gazette_bot) -> None:
    check(gazette_bot.ask("How much do the prints sell for now?"), r"^The documents do not say", refused=True)


def test_its_after_another_subject_does_not_take_the_figure_of_the_next(gazette_bot) -> None:
    a = gazette_bot.ask("What is Moorside Post's web traffic per month?")
    check(a, r"^(?:Nearly )?21 million \[1\]\.$")  # not the 8 million of the Fenland Gazette
    assert a.citations[0].quote.startswith("Moorside Post")


def test_the_time_period_needed_is_how_long_with_the_range_whole(gazette_bot) -> None:
    q = "What is the time period needed for the grain board to meet the requirements?"
    check(gazette_bot.ask(q), r"^Four to seven months \[1\]\.$")  # not "this week"


# -- recipes and prices (KITCHEN) -------------------------------------------------------------------------------------
def test_a_number_glued_to_the_word_before_it_is_read(kitchen_bot) -> None:
    a = kitchen_bot.ask("How much spinach is needed?")
    check(a, r"^1 pound \[1\]\.$")  # the numeric guard reads the "1" of "eggs1 pound" too
    assert "pound of spinach" in a.citations[0].quote


def test_a_price_in_brackets_after_a_name_is_its_price(kitchen_bot) -> None:
    check(kitchen_bot.ask("How much does the Stillwater K7 cost?"), r"^\$40 \[1\]\.$")  # not the $90 of others
