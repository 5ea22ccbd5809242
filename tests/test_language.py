"""The language layer: tokens, lemmas and keys, names, quantities and phrase chunks, on real text.

No mocks: lemmas and parts of speech come from lemminflect, spelled-out numbers from number-parser and
dates from dateparser, as at index and question time.
"""

from __future__ import annotations

import itertools

import pytest

from bot.language.chunks import noun_phrases, tag, verb_phrases
from bot.language.names import find_names, name_keys
from bot.language.quantities import Quantity, date_ordinal, find_quantities, parse_date
from bot.language.tokens import content_keys, is_month, key, lemma, tokenize
from tests._corpora import BATTERY_TEXT, SEED_TEXT

# --------------------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The U.S. firm paid.", ["The", "U.S.", "firm", "paid", "."]),
        ("Mr. Law met Dr. Lee.", ["Mr.", "Law", "met", "Dr.", "Lee", "."]),
        ("Huawei’s and Seres's brands", ["Huawei", "’s", "and", "Seres", "'s", "brands"]),
        ("a well-known spin-off", ["a", "well-known", "spin-off"]),
        ("Revenue hit 1.6bn euros", ["Revenue", "hit", "1.6bn", "euros"]),
        ("at 8:05 P.M. sharp", ["at", "8:05", "P.M.", "sharp"]),
        ("in the 1990s and 2000s", ["in", "the", "1990s", "and", "2000s"]),
        ("81,864 vehicles, 5.68 GWh", ["81,864", "vehicles", ",", "5.68", "GWh"]),
        ("200,000–300,000 yuan", ["200,000", "–", "300,000", "yuan"]),
        ("US$2.5 billion (10%)", ["US", "$", "2.5", "billion", "(", "10", "%", ")"]),
        ("the COVID-19 wave and F-35 jets", ["the", "COVID-19", "wave", "and", "F-35", "jets"]),
        ("Stéphane met O'Brien", ["Stéphane", "met", "O", "'Brien"]),
        ("the 3rd quarter of Q3", ["the", "3rd", "quarter", "of", "Q3"]),
    ],
)
def test_tokens_and_offsets_are_exact(text: str, expected: list[str]) -> None:
    tokens = tokenize(text)
    assert [t.text for t in tokens] == expected
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert all(a.end <= b.start for a, b in itertools.pairwise(tokens))


@pytest.mark.parametrize("text", [SEED_TEXT, BATTERY_TEXT])
def test_corpus_offsets_are_exact_with_an_offset(text: str) -> None:
    tokens = tokenize(text, offset=1000)
    assert len(tokens) > 100
    assert all(text[t.start - 1000 : t.end - 1000] == t.text for t in tokens)
    # nothing but white space is left between tokens
    covered = "".join(t.text for t in tokens)
    assert covered == "".join(text.split())


def test_token_kinds() -> None:
    kinds = {t.text: t.kind for t in tokenize("HIMA delivered 81,864 vehicles ($2,072 each)!")}
    assert kinds == {
        "HIMA": "word", "delivered": "word", "81,864": "num", "vehicles": "word", "(": "punct", "$": "sym",
        "2,072": "num", "each": "word", ")": "punct", "!": "punct",
    }  # fmt: skip
    first, *_ = tokenize("81,864")
    assert first.lemma == "81864"  # thousands separators dropped from a number's lemma


@pytest.mark.parametrize(
    ("word", "expected"),
    [("delivered", "deliver"), ("bought", "buy"), ("cars", "car"), ("paid", "pay"), ("Yinwang", "yinwang")],
)
def test_lemmas(word: str, expected: str) -> None:
    assert lemma(word) == expected


def test_parts_of_speech_from_the_lexicon() -> None:
    by_text = {t.text: t for t in tokenize("Huawei delivered vehicles quickly")}
    assert by_text["delivered"].verb and "VERB" in by_text["delivered"].pos
    assert by_text["vehicles"].noun and not by_text["vehicles"].verb
    assert by_text["Huawei"].pos == frozenset() and by_text["Huawei"].noun and by_text["Huawei"].cap
    assert "ADV" in by_text["quickly"].pos
    (the,) = tokenize("the")
    assert the.stop and not the.content and not the.noun


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("deliveries", "delivered"),
        ("delivery", "delivering"),
        ("Deliveries", "delivered"),
        ("Stéphane", "Stephane"),
        ("Huawei's", "huawei"),
        ("paid", "pays"),
        ("81,864", "81864"),
    ],
)
def test_words_that_share_a_key(a: str, b: str) -> None:
    assert key(a) == key(b)


@pytest.mark.parametrize(("a", "b"), [("stake", "state"), ("price", "prize"), ("Nio", "Seres"), ("five", "seven")])
def test_words_that_do_not_share_a_key(a: str, b: str) -> None:
    assert key(a) != key(b)


def test_content_keys_keep_content_words_and_numbers_in_order() -> None:
    keys = content_keys(tokenize("The alliance delivered 81,864 vehicles in November."))
    assert keys == [key("alliance"), key("delivered"), "81864", key("vehicles"), key("November")]


@pytest.mark.parametrize(("word", "month"), [("Nov", True), ("November", True), ("dec.", True), ("Novel", False)])
def test_months(word: str, month: bool) -> None:
    assert is_month(word) is month


# --------------------------------------------------------------------------- names


def names_of(text: str) -> list[str]:
    tokens = tokenize(text)
    found = find_names(tokens, text)
    assert all(text[n.start : n.end] == n.text for n in found)
    return [n.text for n in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Industry sources say Dongfeng has invested.", ["Dongfeng"]),  # an ordinary word opening a sentence
        ("Consumers may view vehicles in Huawei stores.", ["Huawei"]),
        ("Seres should strengthen its brand.", ["Seres"]),  # unknown to the lexicon: a name
        ("The Rangers won.", ["Rangers"]),
        ("Bank of America said so.", ["Bank of America"]),
        ("Rates at the Bank of England rose.", ["Bank of England"]),
        ("Both of Huawei's partners agreed.", ["Huawei"]),  # no leading "of"
        ("Ernst & Young audited it.", ["Ernst & Young"]),
        ("Its Harmony Intelligent Mobility Alliance (HIMA) grew.", ["Harmony Intelligent Mobility Alliance", "HIMA"]),
        ("He met Mr. Law in New York.", ["Mr. Law", "New York"]),
        ("It beat Nio, Xpeng, and Li Auto.", ["Nio", "Xpeng", "Li Auto"]),
        ("In March, Halvard Motors paid.", ["Halvard Motors"]),  # months are dates, not names
        ("On Monday in November it rained.", []),
        ("One of them left.", []),  # a number word alone is not a name
        ("Twenty-three people came.", []),
        ("Thirteen people came.", []),
        ("Yes, Apple did.", ["Apple"]),
        ("The market grew.", []),  # a single stopword is not a name
        ("He met Stéphane Lundqvist.", ["Stéphane Lundqvist"]),
    ],
)
def test_names(text: str, expected: list[str]) -> None:
    assert names_of(text) == expected


def test_name_keys_drop_titles_and_joiners() -> None:
    text = "Mr. Law of Bank of America met Dr. Stéphane Lundqvist."
    found = find_names(tokenize(text), text)
    assert name_keys(found) >= {"law", "bank", "america", "stéphane", "lundqvist"}
    assert not name_keys(found) & {"mr", "dr", "of"}


def test_name_offsets_inside_a_document() -> None:
    start = SEED_TEXT.index("Its Harmony")
    end = SEED_TEXT.index("\n", start)
    sentence = SEED_TEXT[start:end]
    found = find_names(tokenize(sentence, start), sentence, start)
    assert all(SEED_TEXT[n.start : n.end] == n.text for n in found)
    expected = ["Harmony Intelligent Mobility Alliance", "HIMA", "NEV", "Nio", "Xpeng", "Li Auto"]
    assert [n.text for n in found] == expected


# --------------------------------------------------------------------------- quantities


def one_quantity(text: str, written: str) -> Quantity:
    found = find_quantities(text)
    assert all(text[q.start : q.end] == q.text for q in found)
    matching = [q for q in found if q.text == written]
    assert len(matching) == 1, [q.text for q in found]
    return matching[0]


@pytest.mark.parametrize(
    ("text", "written", "value", "kind", "unit", "currency"),
    [
        ("HIMA delivered 81,864 vehicles in November.", "81,864 vehicles", 81_864, "count", "vehicle", None),
        ("It cost $2,072 in total.", "$2,072", 2072, "money", None, "USD"),
        ("It cost about 28,296 U.S. dollars.", "28,296 U.S. dollars", 28_296, "money", None, "USD"),
        ("The contract was worth 4.6 billion kronor.", "4.6 billion kronor", 4.6e9, "money", None, "SEK"),
        ("Changan invested 11.5 billion yuan.", "11.5 billion yuan", 1.15e10, "money", None, "CNY"),
        ("Acme paid US$2.5 billion for it.", "US$2.5 billion", 2.5e9, "money", None, "USD"),
        ("Revenue hit 1.6bn euros.", "1.6bn euros", 1.6e9, "money", None, "EUR"),
        ("It paid €1.2 billion (about £1.03 billion).", "£1.03 billion", 1.03e9, "money", None, "GBP"),
        ("It costs 5 Canadian dollars.", "5 Canadian dollars", 5, "money", None, "CAD"),
        ("Sales rose 7.5 percent.", "7.5 percent", 7.5, "percent", None, None),
        ("Brightcell holds a 10% stake.", "10%", 10, "percent", None, None),
        ("Rates fell 2.5 percentage points.", "2.5 percentage points", 2.5, "percent", None, None),
        ("Twenty-three people came.", "Twenty-three people", 23, "count", "people", None),
        ("They sold three hundred and twenty cars.", "three hundred and twenty cars", 320, "count", "car", None),
        ("Producing 42.5 GWh of cells.", "42.5 GWh", 42.5, "count", "gwh", None),
        ("It lasted 15 years.", "15 years", 15, "duration", "year", None),
        ("After a two-week trial he left.", "two-week", 2, "duration", "week", None),
        ("They bought a 600-acre farm.", "600-acre", 600, "count", "acre", None),
        ("It finished 3rd.", "3rd", 3, "ordinal", None, None),
    ],
)
def test_quantity_values_kinds_units_and_currencies(
    text: str, written: str, value: float, kind: str, unit: str | None, currency: str | None
) -> None:
    q = one_quantity(text, written)
    assert (q.value, q.kind, q.unit, q.currency) == (pytest.approx(value), kind, unit, currency)
    assert not q.is_range and q.values == [pytest.approx(value)]


@pytest.mark.parametrize(
    ("text", "word"),
    [("Twenty-three people came.", True), ("It grew to seven brands.", True), ("It grew to 7 brands.", False)],
)
def test_spelled_out_numbers_are_marked(text: str, word: bool) -> None:
    (q,) = find_quantities(text)
    assert q.word is word


@pytest.mark.parametrize(
    ("text", "written", "low", "high", "kind", "currency"),
    [
        ("Models priced in the 200,000–300,000 yuan range.", "200,000–300,000 yuan", 200_000, 300_000, "money", "CNY"),
        ("About 28,296–42,444 U.S. dollars.", "28,296–42,444 U.S. dollars", 28_296, 42_444, "money", "USD"),
        ("It grew from five to seven brands.", "five to seven brands", 5, 7, "count", None),
        ("Capacity should reach between 20 and 30 GWh.", "20 and 30 GWh", 20, 30, "count", None),
        ("Shares rose 5-7% on Monday.", "5-7%", 5, 7, "percent", None),
    ],
)
def test_ranges(text: str, written: str, low: float, high: float, kind: str, currency: str | None) -> None:
    q = one_quantity(text, written)
    assert q.is_range and q.value is None
    assert (q.low, q.high, q.kind, q.currency) == (low, high, kind, currency)
    assert q.values == [low, high]


@pytest.mark.parametrize(
    "text",
    ["It went to five shops and seven bars.", "Acme bought 5 plants from 3 suppliers.", "Between 2 of them, 3 left."],
)
def test_to_and_and_join_a_range_only_after_from_or_between(text: str) -> None:
    assert not [q for q in find_quantities(text) if q.is_range]


@pytest.mark.parametrize(
    ("text", "written", "date"),
    [
        ("He died on 8 January 1919.", "8 January 1919", (1919, 1, 8)),
        ("Woodstock ran August 15-18, 1969.", "August 15-18, 1969", (1969, 8, 15)),
        ("It closed on Dec. 15 after a review.", "Dec. 15", (None, 12, 15)),
        ("It opened on January 8, 1919.", "January 8, 1919", (1919, 1, 8)),
        ("It was 12 January.", "12 January", (None, 1, 12)),
        ("In November 2013 it opened.", "November 2013", (2013, 11, None)),
        ("Raids on 25/26 March 1933 followed.", "25/26 March 1933", (1933, 3, 25)),  # a span of days
        ("The fair ran 15-18 August.", "15-18 August", (None, 8, 15)),
        ("Votes on 3 and 4 May 2010 were close.", "3 and 4 May 2010", (2010, 5, 3)),
    ],
)
def test_dates(text: str, written: str, date: tuple[int | None, int | None, int | None]) -> None:
    q = one_quantity(text, written)
    assert (q.kind, q.date) == ("date", date)


def test_a_span_of_days_leaves_no_bare_count() -> None:
    # read alone, "25" of "25/26 March" was a count that a "how many" question could copy
    qs = find_quantities("Raids took place on 21 March and on 25/26 March 1933.")
    assert [(q.text, q.kind) for q in qs] == [("21 March", "date"), ("25/26 March 1933", "date")]


@pytest.mark.parametrize(
    ("text", "written", "year"),
    [("Its first church was built in 1640.", "1640", 1640), ("In the 1990s it grew.", "1990s", 1990)],
)
def test_years(text: str, written: str, year: int) -> None:
    q = one_quantity(text, written)
    assert (q.kind, q.value, q.date) == ("year", year, (year, None, None))


def test_a_four_digit_count_is_not_a_year() -> None:
    assert one_quantity("The mill employed 1640 workers.", "1640 workers").kind == "count"


def test_times_of_day() -> None:
    q = one_quantity("The show began at 8:05 P.M. sharp.", "8:05 P.M.")
    assert (q.kind, q.value) == ("time", None)


@pytest.mark.parametrize(
    ("text", "written", "approximate", "bound"),
    [
        ("It cost about 28,296 U.S. dollars.", "28,296 U.S. dollars", True, None),
        ("Kestrel employs roughly 3,100.", "3,100", True, None),
        ("More than 5 people came.", "5 people", False, "lower"),
        ("Up to 40 percent were sold.", "40 percent", False, "upper"),
        ("The sub-200,000 yuan segment.", "200,000 yuan", False, "upper"),
        ("It sold 5 cars.", "5 cars", False, None),
    ],
)
def test_hedges_and_bounds(text: str, written: str, approximate: bool, bound: str | None) -> None:
    q = one_quantity(text, written)
    assert (q.approximate, q.bound) == (approximate, bound)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "No numbers at all here.",
        "She has one of the best.",  # "one of" is not a count
        "Seres should take advantage of its first-mover status.",
        "The COVID-19 wave and the F-35 jets.",  # digits inside a name
        "Yinwang acts as the technological core for Huawei's smart driving systems.",
    ],
)
def test_no_false_quantities(text: str) -> None:
    assert find_quantities(text) == []


def test_quantity_offsets_inside_a_document() -> None:
    start = SEED_TEXT.index("Hardware specifications")
    end = SEED_TEXT.index("\n", start)
    sentence = SEED_TEXT[start:end]
    found = find_quantities(sentence, start)
    assert [q.text for q in found] == ["200,000–300,000 yuan", "28,296–42,444 U.S. dollars"]
    assert all(SEED_TEXT[q.start : q.end] == q.text for q in found)
    assert all(q.tokens and q.tokens[0].start == q.start and q.tokens[-1].end == q.end for q in found)


def test_date_helpers() -> None:
    assert parse_date("8 January 1919") == (1919, 1, 8)
    assert parse_date("12 January") == (None, 1, 12)
    assert parse_date("August 15, 1969") == (1969, 8, 15)
    assert parse_date("no date here") is None
    a = one_quantity("On 3 March 1781 a fire.", "3 March 1781")
    b = one_quantity("On 19 March 1781 a vote.", "19 March 1781")
    ao, bo = date_ordinal(a), date_ordinal(b)
    assert ao is not None and bo is not None and bo - ao == 16
    assert date_ordinal(one_quantity("It was 12 January.", "12 January")) is None  # no year, no ordinal


# --------------------------------------------------------------------------- chunks


def phrases(text: str) -> tuple[list[str], list[str], list[str]]:
    tokens = tokenize(text)
    tags = tag(tokens)
    assert len(tags) == len(tokens)
    nps = [" ".join(t.text for t in tokens[c.i : c.j]) for c in noun_phrases(tokens, tags)]
    vps = [" ".join(t.text for t in tokens[c.i : c.j]) for c in verb_phrases(tokens, tags)]
    return tags, nps, vps


@pytest.mark.parametrize(
    ("text", "noun_phrase"),
    [
        ("The rise of mobile devices changed the industry.", "The rise of mobile devices"),
        ("The rise of mobile devices changed the industry.", "the industry"),
        ("Police found fragments of broken bottles near the gate.", "fragments of broken bottles"),
        ("Huawei has expanded its auto lineup from five to seven brands.", "its auto lineup"),
        ("Huawei has expanded its auto lineup from five to seven brands.", "seven brands"),
        ("Twenty-three people came.", "Twenty-three people"),
    ],
)
def test_noun_phrases(text: str, noun_phrase: str) -> None:
    _tags, nps, _vps = phrases(text)
    assert noun_phrase in nps


@pytest.mark.parametrize(
    ("text", "verb_phrase"),
    [
        ("The editor reunited the magazine with its website in 2010.", "reunited the magazine with its website"),
        ("Police found fragments of broken bottles near the gate.", "found fragments of broken bottles"),
        ("Seres should strengthen its brand narrative.", "strengthen its brand narrative"),
        ("They want to build clear identities.", "build clear identities"),
    ],
)
def test_verb_phrases(text: str, verb_phrase: str) -> None:
    _tags, _nps, vps = phrases(text)
    assert verb_phrase in vps


def test_tags() -> None:
    tags, _nps, _vps = phrases("Huawei has expanded its lineup from five to 7 brands quickly.")
    assert tags == ["PROPN", "AUX", "VERB", "DET", "NOUN", "ADP", "NUM", "ADP", "NUM", "NOUN", "ADV", "PUNCT"]
