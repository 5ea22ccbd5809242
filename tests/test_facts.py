from __future__ import annotations

import time

import pytest

from bot.facts import currency_code, extract_facts, measure_lemma
from bot.models import Fact
from bot.split import sentence_spans
from bot.understand import english_words
from tests._corpora import BATTERY_TEXT, SEED_TEXT


@pytest.fixture(scope="module")
def seed_facts() -> list[Fact]:
    return extract_facts(SEED_TEXT, "huawei_auto_brand_alliances.txt")


@pytest.fixture(scope="module")
def battery_facts() -> list[Fact]:
    return extract_facts(BATTERY_TEXT, "battery_report.txt")


def one(facts: list[Fact], quantity_text: str, subject: str | None = None) -> Fact:
    found = [f for f in facts if f.quantity_text == quantity_text and (subject is None or f.subject == subject)]
    assert len(found) == 1, [(f.quantity_text, f.subject) for f in facts]
    return found[0]


# --------------------------------------------------------------------------- spans


@pytest.mark.parametrize("corpus", ["seed", "battery"])
def test_every_span_is_exact(corpus: str, seed_facts: list[Fact], battery_facts: list[Fact]) -> None:
    text, facts = (SEED_TEXT, seed_facts) if corpus == "seed" else (BATTERY_TEXT, battery_facts)
    assert facts
    for f in facts:
        assert text[f.start : f.end] == f.text
        assert text[f.sentence_start : f.sentence_end] == f.sentence
        assert f.sentence_start <= f.start < f.end <= f.sentence_end
        assert f.text in f.quantity_text and f.quantity_text in f.sentence
    assert len({f.id for f in facts}) == len(facts)


def test_ids_are_stable_and_source_dependent(seed_facts: list[Fact]) -> None:
    again = extract_facts(SEED_TEXT, "huawei_auto_brand_alliances.txt")
    assert [f.id for f in again] == [f.id for f in seed_facts]
    other = extract_facts(SEED_TEXT, "copy.txt")
    assert not {f.id for f in other} & {f.id for f in seed_facts}
    assert all(f.id.startswith("f-") for f in seed_facts)


# --------------------------------------------------------------------------- seed article


def test_seed_deliveries(seed_facts: list[Fact]) -> None:
    f = one(seed_facts, "81,864 vehicles")
    assert (f.text, f.value, f.kind, f.unit) == ("81,864", 81864, "count", "vehicles")
    assert "HIMA" in [f.subject, *f.subject_aliases]
    assert (f.measure, f.period) == ("deliver", "November")


def test_seed_investment_and_stakes(seed_facts: list[Fact]) -> None:
    money = one(seed_facts, "11.5 billion yuan")
    assert (money.text, money.value, money.kind, money.currency, money.unit) == (
        "11.5 billion",
        1.15e10,
        "money",
        "CNY",
        "yuan",
    )
    assert (money.subject, money.measure, money.object) == ("Changan", "invest", "Yinwang")
    assert "Avatr" in money.subject_aliases
    changan = one(seed_facts, "10 percent", subject="Changan")
    assert (changan.value, changan.kind, changan.measure, changan.object) == (
        pytest.approx(0.10),
        "percent",
        "stake",
        "Yinwang",
    )
    seres = one(seed_facts, "10 percent", subject="Seres")
    assert (seres.value, seres.measure, seres.object) == (pytest.approx(0.10), "stake", "Yinwang")
    assert not [f for f in seed_facts if f.subject == "Seres" and f.kind == "money"]


def test_seed_brand_count_from_five_to_seven(seed_facts: list[Fact]) -> None:
    brands = [f for f in seed_facts if f.unit == "brands"]
    assert [(f.text, f.value, f.role, f.subject, f.kind) for f in brands] == [
        ("five", 5, "from", "Huawei", "count"),
        ("seven", 7, "to", "Huawei", "count"),
    ]


def test_seed_price_range_paired_with_dollars(seed_facts: list[Fact]) -> None:
    yuan = one(seed_facts, "200,000–300,000 yuan")
    usd = one(seed_facts, "28,296–42,444 U.S. dollars")
    assert (yuan.value, yuan.low, yuan.high, yuan.currency) == (None, 200_000, 300_000, "CNY")
    assert (usd.low, usd.high, usd.currency, usd.unit) == (28_296, 42_444, "USD", "U.S. dollars")
    assert yuan.paired_with == usd.id and usd.paired_with == yuan.id
    assert usd.approximate and yuan.measure == "price"


def test_seed_no_false_quantities(seed_facts: list[Fact]) -> None:
    texts = {f.text for f in seed_facts}
    assert "first" not in " ".join(texts)  # "first-mover" is not a number
    sub = one(seed_facts, "sub-200,000 yuan")
    assert (sub.text, sub.value, sub.role, sub.measure) == ("200,000", 200_000, "upper_bound", "price")
    vague = one(seed_facts, "billions of yuan")
    assert (vague.value, vague.low, vague.subject, vague.approximate) == (None, 1e9, "Dongfeng", True)


# --------------------------------------------------------------------------- second corpus


def test_battery_plants_from_three_to_five(battery_facts: list[Fact]) -> None:
    plants = [f for f in battery_facts if f.unit == "plants"]
    assert [(f.value, f.role, f.subject, f.period) for f in plants] == [
        (3, "from", "Nordvolt Energy", "2024"),
        (5, "to", "Nordvolt Energy", "2024"),
    ]


def test_battery_stake_price_and_currency_pair(battery_facts: list[Fact]) -> None:
    eur = one(battery_facts, "€1.2 billion")
    gbp = one(battery_facts, "£1.03 billion")
    assert (eur.value, eur.currency, eur.subject, eur.measure, eur.object, eur.period) == (
        1.2e9,
        "EUR",
        "Halvard Motors",
        "pay",
        "Nordvolt Energy",
        "March",
    )
    assert (gbp.value, gbp.currency) == (1.03e9, "GBP")
    assert eur.paired_with == gbp.id and gbp.paired_with == eur.id
    stake = one(battery_facts, "15 percent")
    assert (stake.value, stake.subject, stake.measure, stake.object) == (
        pytest.approx(0.15),
        "Halvard Motors",
        "stake",
        "Nordvolt Energy",
    )
    bright = one(battery_facts, "7%")
    assert (bright.value, bright.subject, bright.measure, bright.object) == (
        pytest.approx(0.07),
        "Brightcell",
        "stake",
        "Nordvolt",
    )


def test_battery_subjects_across_clauses_and_pronouns(battery_facts: list[Fact]) -> None:
    assert one(battery_facts, "12,400 people").subject == "Nordvolt"
    assert one(battery_facts, "3,100").subject == "Kestrel Batteries"
    produced = next(f for f in battery_facts if f.quantity_text == "42.5 GWh")
    assert (produced.subject, produced.measure, produced.unit, produced.period) == (
        "Nordvolt Energy",
        "produce",
        "GWh",
        "third quarter",
    )
    growth = one(battery_facts, "18%")
    assert (growth.subject, growth.measure, growth.value) == ("Nordvolt Energy", "increase", pytest.approx(0.18))
    shipped = one(battery_facts, "9 GWh")
    assert (shipped.subject, shipped.measure, shipped.approximate) == ("Kestrel Batteries", "ship", True)
    hired = one(battery_facts, "1,500 engineers")
    assert (hired.subject, hired.period) == ("Kestrel Batteries", "November")  # passive "by X"


def test_battery_revenue_change_and_range(battery_facts: list[Fact]) -> None:
    new, old = one(battery_facts, "€6.8 billion"), one(battery_facts, "€5.1 billion")
    assert (new.measure, new.role, new.subject) == ("revenue", "to", "Nordvolt")
    assert (old.measure, old.role) == ("revenue", "from")
    rng = one(battery_facts, "between 20 and 30 GWh")
    assert (rng.value, rng.low, rng.high, rng.unit, rng.period) == (None, 20, 30, "GWh", "2027")
    years = [f for f in battery_facts if f.kind == "date"]
    assert {f.value for f in years} == {2024, 2027}
    assert not [f for f in battery_facts if f.subject and "Orvane" in f.subject]


# --------------------------------------------------------------------------- units and edge cases


@pytest.mark.parametrize(
    ("sentence", "quantity", "value", "kind", "currency"),
    [
        ("Acme raised $5m in May.", "$5m", 5e6, "money", "USD"),
        ("Acme paid US$2.5 billion for it.", "US$2.5 billion", 2.5e9, "money", "USD"),
        ("Beta sold shares worth ¥300 million.", "¥300 million", 3e8, "money", "CNY"),
        ("Gamma earned 40 million euros.", "40 million euros", 4e7, "money", "EUR"),
        ("Delta cut costs by 2.5 percentage points.", "2.5 percentage points", 0.025, "percent", None),
        ("Omega plans twenty-one stores.", "twenty-one stores", 21, "count", None),
        ("The lease runs for 15 years.", "15 years", 15, "period", None),
        ("Output grew 3 times.", "3 times", 3, "ratio", None),
    ],
)
def test_units_and_kinds(sentence: str, quantity: str, value: float, kind: str, currency: str | None) -> None:
    facts = extract_facts(sentence, "x.txt")
    f = one(facts, quantity)
    assert (f.value, f.kind, f.currency) == (pytest.approx(value), kind, currency)


@pytest.mark.parametrize("text", ["", "   ", "No numbers at all here.", "The COVID-19 wave hit Model 3 sales."])
def test_nothing_to_extract(text: str) -> None:
    facts = extract_facts(text, "x.txt")
    assert [f for f in facts if f.text in {"19", "3"}] == []


def test_sentence_split_keeps_abbreviations() -> None:
    text = "It cost 5 U.S. dollars. Then Mr. Smith left.\nNew paragraph"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["It cost 5 U.S. dollars.", "Then Mr. Smith left.", "New paragraph"]


def test_lexicon_helpers() -> None:
    assert [measure_lemma(w) for w in ("deliveries", "delivered", "paid", "priced", "ownership")] == [
        "deliver",
        "deliver",
        "pay",
        "price",
        "stake",
    ]
    assert [currency_code(c) for c in ("yuan", "RMB", "CNY", "U.S. dollars", "dollars", "€", "pounds", "zorkmid")] == [
        "CNY",
        "CNY",
        "CNY",
        "USD",
        "USD",
        "EUR",
        "GBP",
        None,
    ]


def test_extraction_is_fast() -> None:
    extract_facts(SEED_TEXT, "warm.txt")
    timings = []
    for _ in range(7):
        start = time.perf_counter()
        extract_facts(SEED_TEXT, "timed.txt")
        timings.append(time.perf_counter() - start)
    best = min(timings)  # best-of-n: the machine may be busy with other work
    assert best < 0.05, f"{best * 1000:.1f} ms per document"


# --------------------------------------------------------------------------- general attribution rules

# A made-up report with the sentence shapes that used to be misread: capitalised common words
# opening a sentence, "grew to X ..., up from Y", units spelled out then abbreviated, "led by X,
# which ...", appositive rivals, "compared with X for Y", and questions the text does not answer.
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


@pytest.fixture(scope="module")
def solar_facts() -> list[Fact]:
    return extract_facts(SOLAR_TEXT, "solar_report.txt")


def test_solar_spans_are_exact(solar_facts: list[Fact]) -> None:
    for f in solar_facts:
        assert SOLAR_TEXT[f.start : f.end] == f.text
        assert f.quantity_text in f.sentence


def test_common_words_opening_a_sentence_are_not_subjects(solar_facts: list[Fact]) -> None:
    if not english_words():
        pytest.skip("no English word list (embedding model package not installed)")
    for quantity in ("2,300 megawatts", "1,700 MW", "640 kronor", "720 kronor", "3 gigawatts"):
        assert one(solar_facts, quantity).subject is None, quantity  # Rooftop, Typical, Builders
    assert not {f.subject for f in solar_facts} & {"Rooftop", "Typical", "Builders", "Bergen"}
    # names stay names: unknown words, English words followed by a verb or capitalised mid-sentence
    assert one(extract_facts("Acme sold 1,200 cars in May.", "a.txt"), "1,200 cars").subject == "Acme"
    assert one(extract_facts("Apple sold 5 million phones.", "a.txt"), "5 million phones").subject == "Apple"
    summit = extract_facts("Summit shares rose 5 percent. Investors like Summit.", "a.txt")
    assert one(summit, "5 percent").subject == "Summit"


def test_change_from_older_to_newer_value(solar_facts: list[Fact]) -> None:
    new, old = one(solar_facts, "2,300 megawatts"), one(solar_facts, "1,700 MW")
    assert (new.role, old.role) == ("to", "from")
    assert new.unit == old.unit == "MW" and new.kind == old.kind == "other"
    assert new.measure == old.measure and new.measure is not None
    assert (new.period, old.period) == ("May", "a year earlier")

    new, old = one(solar_facts, "9.4 gigawatt-hours"), one(solar_facts, "7.1 GWh")
    assert [(f.role, f.subject, f.measure, f.unit, f.kind) for f in (new, old)] == [
        ("to", "Orsolo Robotics", "deliver", "GWh", "other"),
        ("from", "Orsolo Robotics", "deliver", "GWh", "other"),
    ]
    assert (new.period, old.period) == ("second quarter", "first quarter")

    new, eur, old = one(solar_facts, "640 kronor"), one(solar_facts, "56 euros"), one(solar_facts, "720 kronor")
    assert [(f.role, f.measure) for f in (new, eur, old)] == [("to", "price"), ("to", "price"), ("from", "price")]
    assert new.paired_with == eur.id and eur.paired_with == new.id
    assert new.period != "a year earlier" and old.period == "a year earlier"

    plain = extract_facts("Its revenue rose to 8 million euros from 6 million euros.", "a.txt")
    assert [f.role for f in plain] == ["to", "from"]
    years = extract_facts("Acme grew from 3 plants in 2023 to 5 plants in 2024.", "a.txt")
    assert [(f.value, f.role, f.period) for f in years if f.unit == "plants"] == [
        (3, "from", "2023"),
        (5, "to", "2024"),
    ]
    assert [f.role for f in extract_facts("Acme bought 5 plants from 3 suppliers.", "a.txt")] == [None, None]
    pct = extract_facts("Acme's sales rose 10% to $5m from $4.5m.", "a.txt")
    assert [(f.quantity_text, f.role) for f in pct] == [("10%", None), ("$5m", "to"), ("$4.5m", "from")]


def test_units_written_two_ways_are_one_unit(solar_facts: list[Fact]) -> None:
    energy = [f for f in solar_facts if f.unit in {"MW", "GW", "GWh"}]
    assert len(energy) == 6 and {f.kind for f in energy} == {"other"}
    hours = [f for f in solar_facts if f.unit == "FH"]  # a unit only this text defines
    assert [(f.quantity_text, f.role, f.kind) for f in hours] == [
        ("1,200 flight-hours", "to", "count"),
        ("950 FH", "from", "count"),
    ]
    density = [one(solar_facts, "5.2 kilowatts per kilogram"), one(solar_facts, "4.8 kW/kg")]
    assert [(f.unit, f.kind) for f in density] == [("kW/kg", "other"), ("kW/kg", "other")]


def test_led_by_and_relative_clause(solar_facts: list[Fact]) -> None:
    raised = one(solar_facts, "2.7 billion kronor")
    assert (raised.subject, raised.measure, raised.period) == ("Pellrun", "raise", "October")
    stake = one(solar_facts, "12 percent")
    assert (stake.subject, stake.measure, stake.object) == ("Selvo Partners", "stake", "Pellrun")
    who = one(
        extract_facts("Brimco, which owns 30 percent of Acme, said it paid 5 million euros.", "a.txt"), "30 percent"
    )
    assert (who.subject, who.object) == ("Brimco", "Acme")


def test_worth_is_a_value_and_pairs_its_currencies(solar_facts: list[Fact]) -> None:
    sek, eur = one(solar_facts, "4.6 billion kronor"), one(solar_facts, "402 million euros")
    assert sek.measure == eur.measure == "value"
    assert sek.paired_with == eur.id and eur.paired_with == sek.id
    assert (sek.currency, eur.currency, eur.approximate) == ("SEK", "EUR", True)


def test_share_holders_appositives_and_comparisons(solar_facts: list[Fact]) -> None:
    share = one(solar_facts, "41 percent")
    assert (share.subject, share.measure) == ("Orsolo", "stake")
    assert share.object in {None, "Baltic drone market"}
    rival = one(solar_facts, "19 percent")
    assert (rival.subject, rival.measure) == ("Pellrun Aero", "stake")
    site = one(solar_facts, "310 MW")
    assert site.subject == "Skarvik Solar Park"  # "X, a 310 MW array built by Y"
    assert site.measure != "build"
    ours, theirs = one(solar_facts, "5.2 kilowatts per kilogram"), one(solar_facts, "4.8 kW/kg")
    assert (ours.subject, theirs.subject) == ("Pellrun", "Orsolo")
    assert ours.measure == theirs.measure == "density"


def test_unanswered_amounts_give_no_facts(solar_facts: list[Fact]) -> None:
    for sentence in ("did not say how much it delivered", "did not disclose what Tarnhold pays"):
        assert not [f for f in solar_facts if sentence in f.sentence]
