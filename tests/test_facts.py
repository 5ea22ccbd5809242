"""Index-time facts (:mod:`bot.facts`) on the seed article and on made-up corpora.

Every fact is an exact span of its document; what it is about (subject, measure, object, period) is
filled in only where the sentence's structure says so.
"""

from __future__ import annotations

import time

import pytest

from bot.facts import (
    clause_bounds,
    currency_code,
    extract_facts,
    facts_about,
    measure_lemma,
    sentence_facts,
    subject_of,
)
from bot.language.names import find_names
from bot.language.tokens import tokenize
from bot.models import Fact
from bot.split import sentence_spans
from tests._corpora import BATTERY_TEXT, SEED_TEXT

SEED_SOURCE = "huawei_auto_brand_alliances.txt"

# A made-up report with sentence shapes that are easy to misread: capitalised common words opening a
# sentence, "grew to X ..., up from Y", units spelled out then abbreviated, "led by X, which ...",
# appositive rivals, "compared with X for Y", and amounts the text does not give.
SOLAR_TEXT = (
    "Bergen - Rooftop solar capacity in Denmark and Finland grew to 2,300 megawatts (MW) of installed output by "
    "the end of May, up from 1,700 MW a year earlier, according to a survey by the Baltic Energy Forum.\n"
    "The largest single site is Skarvik Solar Park, a 310 MW array built by Tormund Works for the utility "
    "Lindqvist Power. The contract was worth 4.6 billion kronor (about 402 million euros).\n"
    "Builders have applied for a further 3 gigawatts of capacity, but few will be built by 2030.\n"
    "Tampere - Orsolo Robotics, the largest drone maker in the Baltic region, delivered 9.4 gigawatt-hours (GWh) "
    "of flywheel storage in the second quarter, up from 7.1 GWh in the first quarter.\n"
    "Orsolo now holds a 41 percent share of the Baltic drone market. Its closest rival, Pellrun Aero, holds "
    "19 percent, while imports make up the rest.\n"
    "In October Pellrun raised 2.7 billion kronor in a funding round led by Selvo Partners, which took a 12 percent "
    "stake in the company. Pellrun did not say how much it delivered in the quarter. Orsolo did not disclose what "
    "Tarnhold pays per unit.\n"
    "Typical drone prices in the region fell to 640 kronor (about 56 euros) per unit in the quarter, down from "
    "720 kronor a year earlier.\n"
    "Pellrun's motors reach a power density of 5.2 kilowatts per kilogram (kW/kg), compared with 4.8 kW/kg for "
    "Orsolo's older motors.\n"
    "Zentra logged 1,200 flight-hours (FH) in May, up from 950 FH in April.\n"
)

CORPORA = {"seed": SEED_TEXT, "battery": BATTERY_TEXT, "solar": SOLAR_TEXT}


@pytest.fixture(scope="module")
def facts_of() -> dict[str, list[Fact]]:
    return {name: extract_facts(text, f"{name}.txt") for name, text in CORPORA.items()}


@pytest.fixture(scope="module")
def seed_facts(facts_of: dict[str, list[Fact]]) -> list[Fact]:
    return facts_of["seed"]


@pytest.fixture(scope="module")
def battery_facts(facts_of: dict[str, list[Fact]]) -> list[Fact]:
    return facts_of["battery"]


@pytest.fixture(scope="module")
def solar_facts(facts_of: dict[str, list[Fact]]) -> list[Fact]:
    return facts_of["solar"]


def one(facts: list[Fact], quantity_text: str, subject: str | None = None, role: str | None = None) -> Fact:
    found = [
        f
        for f in facts
        if f.quantity_text == quantity_text and (subject is None or f.subject == subject) and f.role == role
    ]
    assert len(found) == 1, [(f.quantity_text, f.subject, f.role) for f in facts]
    return found[0]


def facts_in(text: str) -> list[Fact]:
    return extract_facts(text, "a.txt")


# --------------------------------------------------------------------------- spans and ids


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_every_span_is_exact(corpus: str, facts_of: dict[str, list[Fact]]) -> None:
    text, facts = CORPORA[corpus], facts_of[corpus]
    assert len(facts) >= 10
    sentences = {text[a:b] for a, b in sentence_spans(text)}
    for f in facts:
        assert text[f.start : f.end] == f.text
        assert text[f.sentence_start : f.sentence_end] == f.sentence
        assert f.sentence in sentences
        assert f.sentence_start <= f.start < f.end <= f.sentence_end
        assert f.text in f.quantity_text and f.quantity_text in f.sentence
        assert f.source == f"{corpus}.txt"
    assert len({f.id for f in facts}) == len(facts)
    assert [f.start for f in facts] == sorted(f.start for f in facts)


def test_ids_are_stable_and_source_dependent(seed_facts: list[Fact]) -> None:
    again = extract_facts(SEED_TEXT, "seed.txt")
    assert [f.id for f in again] == [f.id for f in seed_facts]
    assert [f.model_dump() for f in again] == [f.model_dump() for f in seed_facts]
    other = extract_facts(SEED_TEXT, "copy.txt")
    assert not {f.id for f in other} & {f.id for f in seed_facts}
    assert all(f.id.startswith("f-") and len(f.id) == 18 for f in seed_facts)


def test_sentence_facts_address_the_document(seed_facts: list[Fact]) -> None:
    start = SEED_TEXT.index("Yinwang acts as")
    end = SEED_TEXT.index("\n", start)
    sentence = SEED_TEXT[start:end]
    alone = sentence_facts("seed.txt", sentence, start)
    assert alone
    assert all(SEED_TEXT[f.start : f.end] == f.text and f.sentence_start == start for f in alone)
    assert {f.id for f in alone} <= {f.id for f in seed_facts}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "No numbers at all here.",
        "Seres should take advantage of its first-mover status.",
        "The COVID-19 wave hit the F-35 programme.",
        "Pellrun did not say how much it delivered in the quarter.",
    ],
)
def test_no_facts_without_numbers(text: str) -> None:
    assert facts_in(text) == []


def test_seed_has_no_false_quantities(seed_facts: list[Fact]) -> None:
    assert not [f for f in seed_facts if "first" in f.text]  # "first-mover" is not a number
    without_digits = {SEED_TEXT[a:b] for a, b in sentence_spans(SEED_TEXT)} - {
        s for s in (SEED_TEXT[a:b] for a, b in sentence_spans(SEED_TEXT)) if any(c.isdigit() for c in s)
    }
    spelled = {f.quantity_text for f in seed_facts if f.sentence in without_digits}
    assert spelled == {"five to seven brands", "two models"}  # the only numbers written in words


# --------------------------------------------------------------------------- the seed article


def test_seed_deliveries(seed_facts: list[Fact]) -> None:
    f = one(seed_facts, "81,864 vehicles")
    assert (f.text, f.value, f.kind, f.unit) == ("81,864 vehicles", 81_864, "count", "vehicle")
    assert f.subject == "Harmony Intelligent Mobility Alliance" and f.subject_aliases == ["HIMA"]
    assert (f.measure, f.period, f.role) == ("deliver", "November", None)


def test_seed_compared_rivals_are_never_subjects(seed_facts: list[Fact]) -> None:
    subjects = {f.subject for f in seed_facts}
    assert not subjects & {"Nio", "Xpeng", "Li Auto", "Yinwang", "Deepal", "Dongfeng"}
    assert facts_about(seed_facts, "Nio") == [one(seed_facts, "81,864 vehicles")]  # named in the sentence only


def test_seed_investment_and_stakes(seed_facts: list[Fact]) -> None:
    money = one(seed_facts, "11.5 billion yuan")
    assert (money.value, money.kind, money.currency, money.unit) == (1.15e10, "money", "CNY", "yuan")
    assert (money.subject, money.measure) == ("Changan", "invest")
    changan = one(seed_facts, "10 percent", subject="Changan")
    assert (changan.value, changan.kind, changan.unit, changan.measure, changan.object) == (
        10,
        "percent",
        None,
        "stake",
        "Yinwang",
    )
    seres = one(seed_facts, "10 percent", subject="Seres")  # "..., and Seres also secured 10 percent ownership"
    assert (seres.value, seres.measure) == (10, "ownership")
    assert seres.id != changan.id and seres.start > changan.start
    assert not [f for f in seed_facts if f.subject == "Seres" and f.kind == "money"]


def test_seed_brand_count_from_five_to_seven(seed_facts: list[Fact]) -> None:
    brands = [f for f in seed_facts if f.unit == "brand"]
    assert [(f.text, f.value, f.role, f.subject, f.measure, f.kind) for f in brands] == [
        ("five to seven brands", 5, "from", "Huawei", "expand", "count"),
        ("five to seven brands", 7, "to", "Huawei", "expand", "count"),
    ]
    a, b = brands
    assert (a.start, a.end) == (b.start, b.end) and a.id != b.id
    assert a.low is None and a.high is None  # each end is one value


def test_seed_price_range_in_two_currencies(seed_facts: list[Fact]) -> None:
    yuan = one(seed_facts, "200,000–300,000 yuan")
    usd = one(seed_facts, "28,296–42,444 U.S. dollars")
    assert (yuan.value, yuan.low, yuan.high, yuan.currency, yuan.unit) == (None, 200_000, 300_000, "CNY", "yuan")
    assert (usd.value, usd.low, usd.high, usd.currency, usd.unit) == (None, 28_296, 42_444, "USD", "US dollars")
    assert usd.approximate and not yuan.approximate  # "(about ...)"
    assert yuan.measure == usd.measure == "price"
    assert yuan.sentence == usd.sentence and yuan.subject is None


def test_seed_sub_amount_is_an_upper_bound(seed_facts: list[Fact]) -> None:
    sub = one(seed_facts, "200,000 yuan", role="upper_bound")
    assert (sub.value, sub.currency) == (200_000, "CNY")
    assert SEED_TEXT[sub.start - 4 : sub.end] == "sub-200,000 yuan"


# --------------------------------------------------------------------------- the battery report


def test_battery_plants_from_three_to_five(battery_facts: list[Fact]) -> None:
    plants = [f for f in battery_facts if f.unit == "plant"]
    assert [(f.value, f.role, f.subject, f.measure, f.period) for f in plants] == [
        (3, "from", "Nordvolt Energy", "expand", "2024"),
        (5, "to", "Nordvolt Energy", "expand", "2024"),
    ]


def test_battery_stake_price_and_currencies(battery_facts: list[Fact]) -> None:
    eur = one(battery_facts, "€1.2 billion")
    gbp = one(battery_facts, "£1.03 billion")
    assert (eur.value, eur.currency, eur.unit, eur.subject, eur.measure, eur.period) == (
        1.2e9,
        "EUR",
        "euros",
        "Halvard Motors",
        "pay",
        "March",
    )
    assert (gbp.value, gbp.currency, gbp.approximate) == (1.03e9, "GBP", True)
    stake = one(battery_facts, "15 percent")
    assert (stake.value, stake.subject, stake.measure, stake.object) == (
        15,
        "Halvard Motors",
        "stake",
        "Nordvolt Energy",
    )
    bright = one(battery_facts, "7%")  # "Brightcell also holds a 7% stake in Nordvolt"
    assert (bright.value, bright.subject, bright.measure, bright.object) == (7, "Brightcell", "stake", "Nordvolt")


def test_battery_subjects_follow_the_sentence_structure(battery_facts: list[Fact]) -> None:
    assert one(battery_facts, "12,400 people").subject == "Nordvolt"
    rival = one(battery_facts, "3,100")  # "..., while Kestrel Batteries employs roughly 3,100"
    assert (rival.subject, rival.measure, rival.approximate) == ("Kestrel Batteries", "employ", True)
    shipped = one(battery_facts, "9 GWh")
    assert (shipped.subject, shipped.measure, shipped.approximate) == ("Kestrel Batteries", "ship", True)
    produced = next(f for f in battery_facts if f.quantity_text == "42.5 GWh")
    # "The Swedish battery maker produced ...": no name, so no subject rather than a guess
    assert (produced.subject, produced.measure, produced.unit, produced.period) == (
        None,
        "produce",
        "gwh",
        "third quarter",
    )
    growth = one(battery_facts, "18%")
    assert (growth.kind, growth.measure, growth.period) == ("percent", "produce", "third quarter")  # not "third"
    assert not [f for f in battery_facts if f.subject and ("Orvane" in f.subject or "Lumeo" in f.subject)]


def test_battery_revenue_range_and_years(battery_facts: list[Fact]) -> None:
    new, old = one(battery_facts, "€6.8 billion"), one(battery_facts, "€5.1 billion")
    assert new.measure == old.measure == "rise"  # "Its revenue rose to ..."
    assert new.subject is None and old.subject is None  # "Its": no name to attribute
    rng = one(battery_facts, "20 and 30 GWh")
    assert (rng.value, rng.low, rng.high, rng.unit, rng.period) == (None, 20, 30, "gwh", "2027")
    years = [f for f in battery_facts if f.kind == "date"]
    assert sorted(f.value or 0 for f in years) == [2024, 2024, 2027]
    hired = one(battery_facts, "1,500 engineers")
    assert (hired.value, hired.period, hired.subject) == (1500, "November", None)  # passive "by X" is not guessed


# --------------------------------------------------------------------------- the solar report


def test_solar_common_words_opening_a_sentence_are_not_subjects(solar_facts: list[Fact]) -> None:
    for quantity in ("2,300 megawatts", "1,700 MW", "640 kronor", "720 kronor", "3 gigawatts"):
        assert one(solar_facts, quantity).subject is None, quantity  # Rooftop, Typical, Builders
    subjects = {f.subject for f in solar_facts}
    assert not subjects & {"Rooftop", "Typical", "Builders", "Bergen", "Tampere", "Denmark", "Finland"}


def test_solar_names_followed_by_their_verb(solar_facts: list[Fact]) -> None:
    delivered = one(solar_facts, "9.4 gigawatt-hours")
    assert (delivered.subject, delivered.measure, delivered.period) == ("Orsolo Robotics", "deliver", "second quarter")
    assert one(solar_facts, "7.1 GWh").period == "first quarter"  # the period nearest to the number
    raised = one(solar_facts, "2.7 billion kronor")
    assert (raised.subject, raised.measure, raised.period) == ("Pellrun", "raise", "October")
    share = one(solar_facts, "41 percent")
    assert (share.subject, share.measure) == ("Orsolo", "share")
    stake = one(solar_facts, "12 percent")  # "... led by Selvo Partners, which took a 12 percent stake in the company"
    assert (stake.subject, stake.measure, stake.object) == ("Selvo Partners", "stake", None)
    logged = one(solar_facts, "1,200 flight-hours")
    assert (logged.subject, logged.period) == ("Zentra", "May")
    assert one(solar_facts, "950 FH").period == "April"


def test_solar_currencies_and_hedges(solar_facts: list[Fact]) -> None:
    sek, eur = one(solar_facts, "4.6 billion kronor"), one(solar_facts, "402 million euros")
    assert (sek.value, sek.currency, sek.approximate) == (4.6e9, "SEK", False)
    assert (eur.value, eur.currency, eur.approximate) == (4.02e8, "EUR", True)
    assert one(solar_facts, "56 euros").approximate


# --------------------------------------------------------------------------- attribution rules


@pytest.mark.parametrize(
    ("text", "quantity", "subject"),
    [
        ("HIMA delivered 81,864 vehicles in November.", "81,864 vehicles", "HIMA"),
        ("HIMA delivered 81,864 vehicles, surpassing Nio.", "81,864 vehicles", "HIMA"),
        ("HIMA delivered 81,864 vehicles, surpassing Nio, which delivered 36,000.", "36,000", "Nio"),
        ("Seres has also invested 5 billion yuan.", "5 billion yuan", "Seres"),
        ("Brightcell also holds a 7% stake in Nordvolt.", "7%", "Brightcell"),
        ("Changan's stake of 10 percent is large.", "10 percent", "Changan"),
        ("Changan, through the Avatr brand, invested 11.5 billion yuan.", "11.5 billion yuan", "Changan"),
        ("In March, Halvard Motors paid €1.2 billion.", "€1.2 billion", "Halvard Motors"),
        ("In Denmark, Huawei sold 5 cars.", "5 cars", "Huawei"),
        ("Capacity in Denmark and Finland grew to 5 MW.", "5 MW", None),  # names after "in" are not subjects
        ("Rivals such as Nio, Xpeng, and Li Auto sold 5 cars.", "5 cars", None),
        ("For Deepal, sales rose 5%.", "5%", None),
        ("Brimco, which owns 30 percent of Acme, is small.", "30 percent", "Brimco"),
        ("Brimco, which owns Acme, said it paid 5 million euros.", "5 million euros", None),
        ("While it had taken Acme, the firm run by Tim Lee, 20 years, it took them 10 years.", "10 years", None),
        ("Revenue rose 10% in May.", "10%", None),
        ("Apple sold 5 million phones.", "5 million phones", None),  # an English word opening the sentence
        ("Apple sold 5 million phones. Investors like Apple.", "5 million phones", "Apple"),  # but a name elsewhere
        ("The market grew 10% as Nio sold 5 cars.", "10%", None),
    ],
)
def test_subjects_only_where_the_structure_says(text: str, quantity: str, subject: str | None) -> None:
    f = one(facts_in(text), quantity)
    assert f.subject == subject


def test_the_subject_in_parentheses_is_an_alias() -> None:
    f = one(facts_in("The Harmony Intelligent Mobility Alliance (HIMA) delivered 5 cars."), "5 cars")
    assert (f.subject, f.subject_aliases) == ("Harmony Intelligent Mobility Alliance", ["HIMA"])


def test_subject_of_and_clause_bounds_directly() -> None:
    text = "HIMA delivered 81,864 vehicles in November, surpassing Nio, which delivered 36,000."
    tokens = tokenize(text)
    names = find_names(tokens, text)
    q_i = next(i for i, t in enumerate(tokens) if t.text == "81,864")
    clause = clause_bounds(tokens, q_i, q_i + 2)
    assert " ".join(t.text for t in tokens[clause[0] : clause[1]]) == "HIMA delivered 81,864 vehicles in November"
    subject = subject_of(tokens, names, q_i, clause)
    assert subject is not None and subject.text == "HIMA"
    later = next(i for i, t in enumerate(tokens) if t.text == "36,000")
    relative = subject_of(tokens, names, later, clause_bounds(tokens, later, later + 1))
    assert relative is not None and relative.text == "Nio"  # "..., which delivered 36,000"


@pytest.mark.parametrize(
    ("text", "quantity", "measure"),
    [
        ("Acme sold 1,200 cars in May.", "1,200 cars", "sell"),
        ("Its revenue rose to 8 million euros.", "8 million euros", "rise"),
        ("Sales fell 5 percent.", "5 percent", "fall"),
        ("Acme holds a 7% stake.", "7%", "stake"),
        ("Acme paid €5 million.", "€5 million", "pay"),
        ("Acme produced 5 GWh in the third quarter, up 18%.", "18%", "produce"),
    ],
)
def test_measures(text: str, quantity: str, measure: str) -> None:
    assert one(facts_in(text), quantity).measure == measure


def test_periods_nearest_to_the_number() -> None:
    facts = facts_in("Acme grew from 3 plants in 2023 to 5 plants in 2024.")
    assert [(f.value, f.period) for f in facts if f.unit == "plant"] == [(3, "2023"), (5, "2024")]
    assert [f.role for f in facts_in("Acme bought 5 plants from 3 suppliers.")] == [None, None]


# --------------------------------------------------------------------------- units and kinds


@pytest.mark.parametrize(
    ("sentence", "quantity", "value", "kind", "unit", "currency"),
    [
        ("Acme raised $5m in May.", "$5m", 5e6, "money", "US dollars", "USD"),
        ("Acme paid US$2.5 billion for it.", "US$2.5 billion", 2.5e9, "money", "US dollars", "USD"),
        ("Beta sold shares worth ¥300 million.", "¥300 million", 3e8, "money", "yuan", "CNY"),
        ("Gamma earned 40 million euros.", "40 million euros", 4e7, "money", "euros", "EUR"),
        ("Delta paid 4.6 billion kronor.", "4.6 billion kronor", 4.6e9, "money", "kronor", "SEK"),
        ("Delta cut costs by 2.5 percentage points.", "2.5 percentage points", 2.5, "percent", None, None),
        ("Sales rose 7.5 percent.", "7.5 percent", 7.5, "percent", None, None),
        ("Omega plans twenty-one stores.", "twenty-one stores", 21, "count", "store", None),
        ("The lease runs for 15 years.", "15 years", 15, "period", "year", None),
        ("After a two-week trial he left.", "two-week", 2, "period", "week", None),
        ("The town was founded in 1612.", "1612", 1612, "date", None, None),
        ("It began at 8:05 P.M. sharp.", "8:05 P.M.", None, "other", None, None),
    ],
)
def test_units_and_kinds(
    sentence: str, quantity: str, value: float | None, kind: str, unit: str | None, currency: str | None
) -> None:
    f = one(facts_in(sentence), quantity)
    assert (f.value, f.kind, f.unit, f.currency) == (pytest.approx(value) if value else None, kind, unit, currency)


def test_dates_are_facts() -> None:
    f = one(facts_in("On 3 March 1781 a fire destroyed the old market."), "3 March 1781")
    assert (f.kind, f.value, f.text) == ("date", None, "3 March 1781")


def test_hedged_and_bounded_amounts() -> None:
    facts = facts_in("More than 5 people came, and up to 40 percent left after about 3 hours.")
    roles = {f.quantity_text: (f.role, f.approximate) for f in facts}
    assert roles == {"5 people": ("lower_bound", False), "40 percent": ("upper_bound", False), "3 hours": (None, True)}


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("yuan", "CNY"),
        ("RMB", "CNY"),
        ("CNY", "CNY"),
        ("U.S. dollars", "USD"),
        ("US dollars", "USD"),
        ("dollars", "USD"),
        ("usd", "USD"),
        ("$", "USD"),
        ("US$", "USD"),
        ("€", "EUR"),
        ("euros", "EUR"),
        ("£", "GBP"),
        ("pounds", "GBP"),
        ("kronor", "SEK"),
        ("Canadian dollars", "CAD"),
        ("zorkmid", None),
        ("", None),
    ],
)
def test_currency_code(name: str, code: str | None) -> None:
    assert currency_code(name) == code


@pytest.mark.parametrize(
    ("word", "lemma"),
    [("delivered", "deliver"), ("deliveries", "delivery"), ("paid", "pay"), ("Stakes", "stake"), (" priced ", "price")],
)
def test_measure_lemma(word: str, lemma: str) -> None:
    assert measure_lemma(word) == lemma


def test_facts_about(seed_facts: list[Fact]) -> None:
    assert facts_about(seed_facts, None) == seed_facts and facts_about(seed_facts, "") == seed_facts
    seres = facts_about(seed_facts, "seres")
    assert {f.quantity_text for f in seres} == {"11.5 billion yuan", "10 percent"}  # the sentence names Seres
    assert facts_about(seed_facts, "Yinwang") == seres
    assert facts_about(seed_facts, "Tesla") == []


def test_extraction_is_fast() -> None:
    extract_facts(SEED_TEXT, "warm.txt")
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        extract_facts(SEED_TEXT, "timed.txt")
        timings.append(time.perf_counter() - start)
    best = min(timings)  # best-of-n: the machine may be busy with other work
    assert best < 0.05, f"{best * 1000:.1f} ms per document"
