"""The verdict stage: the confidence model file, its training command, and the three ways to answer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.models import Answer, Citation
from bot.verdict import FEATURES, settle, tier
from bot.verdict.model import MODEL_PATH, load_model, parse_model
from bot.verdict.tiers import abstention, excerpt, hedged, quote_refusal

SENTENCE = "Acme delivered 7 boats to the harbour in May, its best month so far."


def _answer(text: str, **kw) -> Answer:
    cite = Citation(
        n=1, source="a.txt", start=100, end=100 + len(SENTENCE), quote=SENTENCE, answer_start=115, answer_end=122
    )
    return Answer(question="How many boats?", resolved_question="How many boats?", text=text, citations=[cite], **kw)


# -- the model file -----------------------------------------------------------------------------------
def test_shipped_model_matches_the_features_and_names_its_training() -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES)
    assert data["training"]["command"] == "python -m bot.verdict.train"
    assert data["training"]["half"] == 1  # fitted on the tuning halves only
    assert (MODEL_PATH.parent / Path(data["training"]["data"]).name).is_file()
    model = load_model()
    assert 0.0 < model.predict(dict.fromkeys(FEATURES, 0.0)) < 1.0


def test_a_model_with_other_features_is_a_clear_error() -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    renamed = {**data, "features": [*data["features"][:-1], "something_else"]}
    with pytest.raises(ConfigError, match=r"feature list does not match.*something_else.*python -m bot.verdict.train"):
        parse_model(renamed, "m.json")
    swapped = {**data, "features": [data["features"][1], data["features"][0], *data["features"][2:]]}
    with pytest.raises(ConfigError, match="another order"):
        parse_model(swapped, "m.json")
    with pytest.raises(ConfigError, match="damaged"):
        parse_model({k: v for k, v in data.items() if k != "coef"}, "m.json")
    with pytest.raises(ConfigError, match="format"):
        parse_model({**data, "format": "pickle"}, "m.json")


def test_a_missing_or_unreadable_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing; rebuild it with `python -m bot\.verdict\.train`"):
        load_model(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_model(bad)


def test_fit_reproduces_the_shipped_model(tmp_path: Path) -> None:
    """The training command's fit step, on the rows shipped beside the model, writes the same file."""
    from bot.verdict.train import DATA_PATH, fit

    out = tmp_path / "model.json"
    fit(DATA_PATH, out)
    shipped = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    again = json.loads(out.read_text(encoding="utf-8"))
    assert again == shipped


def test_fit_reproduces_the_shipped_auto_model(tmp_path: Path) -> None:
    """The auto engine's combined model: its fit step on the rows shipped beside it writes the same file."""
    from bot.verdict.combine import AUTO_MODEL_PATH
    from bot.verdict.train import fit
    from bot.verdict.train_auto import AUTO

    out = tmp_path / "model_auto.json"
    fit(AUTO.data, out, spec=AUTO)
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(AUTO_MODEL_PATH.read_text(encoding="utf-8"))


def test_a_collect_limit_spreads_over_the_whole_set() -> None:
    from bot.verdict.train import spread

    items = list(range(90))
    assert spread(items, None) == items and spread(items, 90) == items and spread(items, 200) == items
    picked = spread(items, 36)
    assert picked == list(range(0, 90, 3)) and len(picked) <= 36 and picked[-1] >= 80  # reaches the end


@pytest.mark.slow
def test_collect_reproduces_the_shipped_rows(tmp_path: Path) -> None:
    """The collect step, run again on one set (the batteries corpus), gives the rows the model was trained on."""
    from bot.verdict.train import DATA_PATH, _read_rows, collect

    out = tmp_path / "rows.jsonl"
    collect(["batteries"], out, tmp_path / "work", quiet=True)
    again = {r["id"]: r for r in _read_rows(out)}
    shipped = {r["id"]: r for r in _read_rows(DATA_PATH) if r["set"] == "batteries"}
    assert again.keys() == shipped.keys() and shipped
    for qid, row in shipped.items():
        assert again[qid]["right"] == row["right"], qid
        assert again[qid]["half"] == row["half"], qid
        assert again[qid]["features"] == pytest.approx(row["features"], abs=1e-5), qid


def test_a_near_miss_caps_a_copied_claim_but_not_a_computed_one() -> None:
    """The sentence lacks the asked relation: a copied claim is capped; a computed value's relation is its formula."""
    from bot.verdict.features import near_miss

    model = load_model(MODEL_PATH)
    cap = dict(model.caps)["near_miss"]
    copied = dict.fromkeys(FEATURES, 0.0) | {"relation_missing": 1.0, "meaning_support": 0.2, "top_score": 1.0}
    computed = copied | {"arith_done": 1.0}
    assert near_miss(copied) and not near_miss(computed)
    assert model.predict(copied) <= cap
    strong = computed | {"q_numeric": 1.0, "sentence_margin": 1.0, "cand_margin": 1.0, "proximity": 1.0}
    assert model.predict(strong) > cap  # the cap is not applied, so the model's own estimate stands


# -- tiers and their words ----------------------------------------------------------------------------
def test_tier_follows_the_thresholds() -> None:
    assert [tier(c, 0.8, 0.4) for c in (0.95, 0.8, 0.79, 0.4, 0.39, 0.0)] == [
        "sure", "sure", "likely", "likely", "abstain", "abstain"
    ]  # fmt: skip


def test_sure_is_stated_plainly() -> None:
    out = settle(_answer("7 boats [1]."), 0.93, 0.8, 0.4)
    assert (out.text, out.assertion, out.confidence, out.claim, out.refused) == (
        "7 boats [1].",
        "sure",
        0.93,
        "7 boats [1].",
        False,
    )


def test_likely_hedges_and_quotes_its_passage() -> None:
    out = settle(_answer("7 boats [1]."), 0.6, 0.8, 0.4)
    assert out.assertion == "likely" and not out.refused and out.claim == "7 boats [1]."
    assert out.text == f"Probably 7 boats [1] — the passage: “{SENTENCE}”."


def test_abstain_withholds_the_claim_and_quotes_the_closest_passage() -> None:
    out = settle(_answer("7 boats [1]."), 0.2, 0.8, 0.4)
    assert out.assertion == "abstain" and out.refused and out.claim == "7 boats [1]."
    assert out.text == f"I can't tell for sure from the documents. The closest passage [1]: “{SENTENCE}”."
    assert "7 boats [1]" not in out.text.split("“")[0]


def test_a_refusal_keeps_its_words_and_quotes_its_passage() -> None:
    out = settle(_answer("The documents do not say. The closest passage [1].", refused=True), 0.9, 0.8, 0.4)
    assert (out.assertion, out.confidence, out.refused) == ("abstain", 0.0, True)
    assert out.text == f"The documents do not say. The closest passage [1]: “{SENTENCE}”."
    assert quote_refusal("The documents do not say.", out.citations) == "The documents do not say."


def test_yes_is_lowered_after_probably_but_names_are_not() -> None:
    cites = _answer("x").citations
    assert hedged("Yes [1].", cites).startswith("Probably yes [1] — the passage")
    assert hedged("GAC [1].", cites).startswith("Probably GAC [1] — ")


def test_a_long_passage_is_cut_around_the_answer() -> None:
    long = "Intro words. " * 40 + "The answer is 42 here. " + "More words follow. " * 40
    at = long.index("42")
    c = Citation(n=1, source="a", start=0, end=len(long), quote=long, answer_start=at, answer_end=at + 2)
    cut = excerpt(c, 120)
    assert "42" in cut and cut.startswith("…") and cut.endswith("…") and len(cut) <= 124
    assert abstention([c]).endswith(f"[1]: “{excerpt(c)}”.") and len(excerpt(c)) < len(long)


def test_every_tier_keeps_numbers_in_the_claims_own_words() -> None:
    """Hedging never adds a number of its own: every figure outside the quote is one of the claim's."""
    for confidence in (0.9, 0.6, 0.2):
        text = settle(_answer("7 boats [1]."), confidence, 0.8, 0.4).text
        outside = text.split("“")[0]
        assert set(re.findall(r"\d+", outside)) <= {"7", "1"}
