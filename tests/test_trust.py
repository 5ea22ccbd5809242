"""Trust: a guess is never stated as a fact (real index, real model, the shipped confidence model).

On the seed article and on a corpus written here: near-miss questions (the sentence names the subject but
not the asked relation) abstain with the passage, a yes/no the sentence neither states nor contradicts
abstains, "together" sums its parts or abstains, and a conversion never answers with another subject's
figure. Every answer's words follow its tier (``test_engine.tier_words``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import corpus_bot
from test_engine import check, tier_words

BAKERY = """\
Harlow Foods opened a bakery in Leeds in 2018, after two years of planning.
The bakery employs 40 people and supplies cafes across the county.
Harlow Foods was founded by Maria Denton, a former pastry chef.
The bakery does not sell online; customers order by phone or in the shop.
"""


@pytest.fixture
def bakery_bot(tmp_path: Path, embeddings):
    return corpus_bot(tmp_path, embeddings, "bakery", BAKERY)


def _withheld(answer) -> None:
    """Not stated: the claim (if any) is not in the bot's own words, and the closest passage is quoted."""
    tier_words(answer)
    assert answer.assertion == "abstain" and answer.refused, answer.text
    assert re.search(r"\[\d+\]: “.+”\.$", answer.text), answer.text


@pytest.mark.parametrize(
    "question",
    [
        "When did Harlow Foods close the bakery in Leeds?",
        "How many people did Harlow Foods lay off?",
        "Who sued Harlow Foods?",
    ],
)
def test_a_near_miss_question_abstains_with_the_passage(bakery_bot, question: str) -> None:
    _withheld(bakery_bot.ask(question))


def test_a_yes_no_the_sentence_does_not_settle_abstains(bakery_bot) -> None:
    answer = bakery_bot.ask("Does Harlow Foods export bread to France?")
    _withheld(answer)
    assert answer.claim is None  # missing words are not a "no"


def test_yes_no_needs_a_sentence_that_states_or_contradicts(bakery_bot) -> None:
    yes = bakery_bot.ask("Was Harlow Foods founded by Maria Denton?")
    check(yes, r"^Yes \[1\]\.$")
    assert "founded by Maria Denton" in yes.citations[0].quote
    no = bakery_bot.ask("Does the bakery sell online?")
    check(no, r"^No \[1\]\.$")
    assert "does not sell online" in no.citations[0].quote


def test_a_plain_answer_on_clear_evidence_is_sure(bakery_bot) -> None:
    answer = bakery_bot.ask("Who founded Harlow Foods?")
    check(answer, r"Maria Denton")
    assert answer.assertion == "sure" and answer.text == answer.claim


def test_together_sums_the_parts_or_abstains(seed_bot) -> None:
    answer = seed_bot.ask("What percent of Yinwang do Changan and Seres own together?")
    tier_words(answer)
    if answer.assertion == "abstain":
        _withheld(answer)
    else:
        check(answer, r"^20 percent: Changan 10 percent \+ Seres 10 percent \[1\]\.$")


def test_a_conversion_never_uses_another_subjects_figure(seed_bot) -> None:
    answer = seed_bot.ask("how much is changan's investment in US dollars?")
    tier_words(answer)
    said = answer.claim or ""
    assert "200,000–300,000 yuan (" not in said and "28,296–42,444 U.S. dollars," not in said, said
    if answer.claim is not None:  # Changan's 11.5 billion yuan at the rate the documents imply, or nothing
        check(answer, r"11\.5 billion yuan", r"dollars")
        assert re.match(r"About 1\.6\d* billion (?:U\.S\. )?dollars: 11\.5 billion yuan", said), said


def test_the_answer_span_is_marked_in_its_citation(seed_bot) -> None:
    answer = seed_bot.ask("How many vehicles did HIMA deliver in November?")
    check(answer, r"^81,864 vehicles \[1\]\.$")
    c = answer.citations[0]
    assert c.answer_start is not None and c.answer_end is not None
    assert c.quote[c.answer_start - c.start : c.answer_end - c.start] == "81,864 vehicles"
