"""Evaluation runner: ask a question set, score the answers, write a report.

A question set is a JSONL, CSV or YAML file (see :func:`load_questions`). Each
question is asked through anything with ``.ask(question, history, engine=...)``
(normally a :class:`bot.service.Bot`), and every answer is checked:

* ``refusal`` - the answer refuses exactly when the question is unanswerable
  (``answerable: false``); ``answerable: null`` (or ``"any"``) accepts both.
* ``expected`` - normalised match against a reference answer (:func:`text_match`):
  every number of the reference appears in the answer within tolerance
  (:func:`numbers_agree`), a currency the reference names is named too, and,
  for a reference without numbers, at least half of its content words appear.
* ``expected_any`` / ``expected_all`` / ``expected_none`` - case-insensitive
  regular expressions the answer text must / must all / must not match.
* ``sources`` - some citation is one of ``expected_sources`` (file names).
* ``cited`` - an answer that does not refuse has citations and every ``[n]``
  marker refers to one.
* ``numbers_supported`` - every number in the answer text appears in a cited
  quote, the question or its history, the answer's facts or tool calls, or
  follows from two of those in one arithmetic step (:func:`unsupported_numbers`).

A question passes when all its checks pass (and the engine did not raise); the
overall score is the fraction of questions that pass. :func:`summarize` adds
refusal precision/recall, retrieval hit rate and MRR against
``expected_sources``, citation support, latency percentiles and the trust
metrics of :mod:`bot.evaluate.trust` (each answer right, wrong or abstained;
precision, coverage and wrong rate; per-tier counts; risk-coverage and
calibration), overall and per fixed half (:func:`assign_halves`: half 1 tunes,
half 2 is held out); :func:`write_outputs` writes ``answers.jsonl``,
``summary.json``, ``report.md`` and PNG charts.

Example:
    >>> from bot.evaluate import numbers_agree
    >>> numbers_agree("12345", "about 12.3 thousand")
    True

"""

from bot.evaluate.halves import assign_halves
from bot.evaluate.matching import close, content_words, currencies, numbers_agree, parse_numbers, text_match
from bot.evaluate.questions import Question, load_questions
from bot.evaluate.report import percentile, render_report, summarize, write_outputs
from bot.evaluate.runner import EvalResult, ItemResult, grade, run_eval
from bot.evaluate.support import one_step, retrieval_rank, source_matches, unsupported_numbers
from bot.evaluate.trust import classify, majority_baseline, reliability, risk_coverage, trust_summary

__all__ = [
    "EvalResult", "ItemResult", "Question", "assign_halves", "classify", "close", "content_words", "currencies",
    "grade", "load_questions", "majority_baseline", "numbers_agree", "one_step", "parse_numbers", "percentile",
    "reliability", "render_report", "retrieval_rank", "risk_coverage", "run_eval", "source_matches", "summarize",
    "text_match", "trust_summary", "unsupported_numbers", "write_outputs",
]  # fmt: skip
