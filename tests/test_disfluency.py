"""Questions that correct themselves are read as corrected (:func:`bot.engine.disfluency.corrected`)."""

from __future__ import annotations

import pytest

from bot.engine.disfluency import corrected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # the examples
        (
            "What do plants take in from the air, vegetation, no sorry, carbon dioxide?",
            "What do plants take in from the air, carbon dioxide?",
        ),
        ("How many cars, I mean trucks, did Acme sell?", "How many trucks did Acme sell?"),
        ("Who founded Acme — sorry, who runs Acme?", "Who runs Acme?"),
        # a word, a verb, a name, a number, a month, a phrase opened by a preposition or a determiner
        ("How many cars I mean trucks did Acme sell?", "How many trucks did Acme sell?"),
        ("How many cars did Acme sell, I mean buy?", "How many cars did Acme buy?"),
        ("Who founded, I mean runs, Acme?", "Who runs Acme?"),
        ("Did Acme sell cars — no, trucks — in May?", "Did Acme sell trucks in May?"),
        ("Who founded Acme Corp, I mean Zeta?", "Who founded Zeta?"),
        ("Who founded Acme in 1990, I mean Zeta?", "Who founded Zeta in 1990?"),
        ("Who founded the company, sorry, Acme?", "Who founded Acme?"),
        ("How much did Acme pay in 2019, no sorry, 2020?", "How much did Acme pay in 2020?"),
        ("What is 12 percent of Acme's revenue, I mean 15 percent?", "What is 15 percent of Acme's revenue?"),
        ("What did HIMA deliver in November, I mean October?", "What did HIMA deliver in October?"),
        ("When did Acme open its plant in Leeds, no, in Hull?", "When did Acme open its plant in Hull?"),
        (
            "When did Acme open its plant in Leeds in 2018, no, in Hull?",
            "When did Acme open its plant in Hull in 2018?",
        ),
        ("How many cars did Acme sell in 2019, scratch that, in 2020?", "How many cars did Acme sell in 2020?"),
        ("What share of Acme, I mean of Zeta, does Bolt own?", "What share of Zeta does Bolt own?"),
        ("Who is the CEO, or rather the chairman, of Acme?", "Who is the chairman of Acme?"),
        ("Who leads it, sorry, the company that builds trucks?", "Who leads the company that builds trucks?"),
        ("What did Acme buy... sorry, sell in May?", "What did Acme sell in May?"),
        # a new question replaces the one it interrupts; earlier sentences stay
        ("Acme makes bikes. Who founded it — sorry, who runs it?", "Acme makes bikes. Who runs it?"),
        ("Which river, uh, no wait, which lake is the largest?", "Which lake is the largest?"),
        # several corrections, left to right; a marker with nothing to replace is dropped
        ("How many cars, I mean vans, no sorry, trucks, did Acme sell?", "How many trucks did Acme sell?"),
        ("How many, I mean, trucks did Acme sell?", "How many trucks did Acme sell?"),
    ],
)
def test_self_corrections_are_applied(question: str, expected: str) -> None:
    assert corrected(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "How many vehicles did HIMA deliver in November?",
        "Is there no limit?",
        "Why was Acme sorry about the recall?",
        "What do I mean by vegetation?",
        "Sorry, who runs Acme?",  # nothing before the marker to correct
        "Who runs Acme, sorry?",  # nothing after it
        "What did Acme sell, no?",
        "Did Acme say yes, no, or maybe?",  # a lone "no" among choices
        "",
    ],
)
def test_questions_without_a_correction_are_unchanged(question: str) -> None:
    assert corrected(question) == question


def test_unsure_keeps_the_last_clause() -> None:
    # A year for a phrase with no number: what it replaces is unclear, so the repair's clause is kept.
    assert corrected("How many cars did Acme sell last year, sorry, 2020?") == "2020?"
