"""The tables of ``bench_eval.py``: outcomes, tiers, latency and the ``auto`` engine's paths, per set and engine.

The definitions are :mod:`bot.evaluate.trust`'s (:func:`bot.evaluate.trust.trust_summary` over the answers'
records); this module only chooses the columns and formats them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common import md_table, percentile
from eval_engines import ENGINE_LABELS

from bot.evaluate.trust import TIERS, trust_summary

REPLY_FEATURES = ("reply_ok", "reply_refused", "agree")
"""Signals only an answer that went through the reader has (:data:`bot.verdict.combine.AUTO_FEATURES`)."""


@dataclass
class Row:
    """One graded answer with its timings."""

    set_name: str
    engine: str
    item: Any
    """The :class:`bot.evaluate.runner.ItemResult` (an error has one too: outcome abstained, no assertion)."""
    answer_engine: str
    """The answer's own ``engine`` string (``auto``, ``local→grounded (numeric guard)`` ...)."""
    first_s: float | None
    total_s: float
    error: str | None = None

    def record(self) -> dict[str, Any]:
        """The answer's ``answers.jsonl`` record with the benchmark's fields (the ``--answers`` line)."""
        rec = self.item.record()
        return {
            "set": self.set_name,
            "engine": self.engine,
            "answer_engine": self.answer_engine,
            "id": rec.pop("id"),
            "question": rec.pop("question"),
            "text": rec.pop("answer"),
            "claim": rec.pop("claim"),
            "assertion": rec.pop("assertion"),
            "confidence": rec.pop("confidence"),
            "outcome": rec.pop("outcome"),
            "claim_right": rec.pop("claim_right"),
            "first_s": None if self.first_s is None else round(self.first_s, 3),
            "total_s": round(self.total_s, 3),
            "signals": rec.pop("signals"),
            **rec,
        }


def grounded_alone(answer_engine: str, signals: Mapping[str, float]) -> bool:
    """Whether an ``auto`` answer came from the grounded path alone (the reader not needed or not used).

    Read from the answer's ``engine`` string when it says so (``grounded`` in it); otherwise from its signals:
    an answer without any reply feature never went through the reader.
    """
    if "grounded" in answer_engine:
        return True
    return not any(k in signals for k in REPLY_FEATURES)


def reply_unused(signals: Mapping[str, float]) -> bool:
    """Whether the reader ran but its reply is not the answer (it failed a check or said the documents don't say)."""
    return "reply_ok" in signals and not signals["reply_ok"]


def _p(xs: list[float], q: float) -> str:
    return f"{percentile(xs, q):.1f}" if xs else "-"


def _r(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _share(k: int, n: int) -> str:
    return f"{k} ({k / n:.0%})" if n else "-"


def summary(rows: Sequence[Row]) -> dict[str, Any]:
    """The trust summary of some answers (:func:`bot.evaluate.trust.trust_summary`)."""
    return trust_summary([r.item.record() for r in rows])


def answers_row(rows: Sequence[Row]) -> list[str]:
    """Outcomes and tiers of some answers."""
    s = summary(rows)
    n = s["questions"]
    tiers = s["tiers"]
    guesses = tiers["likely"]["claim_right"]
    unanswerable = sum(1 for r in rows if r.item.question.answerable is False)
    refused = round((s["refusal_recall"] or 0) * unanswerable)
    return [
        str(n),
        f"{s['right']} / {s['wrong']} / {s['abstained']}",
        "-" if s["precision"] is None else f"**{s['precision']:.2f}**",
        _share(s["right"] + guesses, n),
        _share(s["wrong"], n),
        *(f"{t['n']} · {t['claim_right']} · {_r(t['precision'])}" for t in (tiers[k] for k in TIERS)),
        f"{refused} / {unanswerable}" if unanswerable else "-",
        str(sum(1 for r in rows if r.error)),
    ]


def speed_row(rows: Sequence[Row], engine: str) -> list[str]:
    """Latency of some answers, and for ``auto`` how many took the grounded path alone or left the reply unused."""
    ok = [r for r in rows if not r.error]
    firsts = [r.first_s for r in ok if r.first_s is not None]
    totals = [r.total_s for r in ok]
    n = len(rows)
    if engine == "auto":
        alone = _share(sum(grounded_alone(r.answer_engine, r.item.signals) for r in ok), n)
        unused = _share(sum(reply_unused(r.item.signals) for r in ok), n)
    else:
        alone = unused = "-"
    return [f"{_p(firsts, 50)} / {_p(firsts, 95)}", f"{_p(totals, 50)} / {_p(totals, 95)}", alone, unused]


ANSWERS_HEADER = ["set", "engine", "n", "right / wrong / abstained", "precision", "right + right guesses",
                  "wrong as sure", "sure: n · right · P", "likely: n · right · P", "abstain: n · right · P",
                  "unanswerable refused", "errors"]  # fmt: skip
SPEED_HEADER = ["set", "engine", "first token p50 / p95 (s)", "total p50 / p95 (s)", "grounded path alone",
                "reply unused"]  # fmt: skip


def render(rows: Sequence[Row], sets: Sequence[str], engines: Sequence[str]) -> str:
    """Both tables: every engine on every set, then on the whole sample."""
    answers, speed = [], []
    for set_name in [*sets, "all"]:
        for engine in engines:
            these = [r for r in rows if r.engine == engine and set_name in ("all", r.set_name)]
            if these:
                head = [f"**{set_name}**" if set_name == "all" else set_name, ENGINE_LABELS[engine]]
                answers.append([*head, *answers_row(these)])
                speed.append([*head, *speed_row(these, engine)])
    return "\n\n".join(
        ["**Answers**", md_table(ANSWERS_HEADER, answers), "**Latency and paths**", md_table(SPEED_HEADER, speed)]
    )


LEGEND = """\
Outcomes as `bot eval` counts them (`bot/evaluate/trust.py`): **right** - a plainly stated (`sure`) answer whose
own words hold the expected answer, or an abstention on an unanswerable question; **wrong** - any other `sure`
answer; **abstained** - a hedged `likely` guess, an abstention on an answerable question, or an engine error.
**precision** = right / (right + wrong); **right + right guesses** = right plus the `likely` answers whose
hedged claim is right, of all questions; **wrong as sure** = wrong answers (all said `sure`) of all questions.
Per tier: answers said that way · their claims that are right (the claim behind a hedge or an abstention is
graded as if stated) · claim precision. **unanswerable refused**: questions marked `answerable: false` that
were refused or abstained on. **first token**: seconds until the first piece of answer text reaches
`Bot.stream`, or until the final answer when nothing was streamed before it (the grounded engine gives its
whole answer at once; a hedged or withheld reply is shown only at the end); **total**: seconds to the final
answer. For `auto`: **grounded path alone** - answers that never went through the reader (the answer's
`engine` string says `grounded`, or its signals have no reply features); **reply unused** - the reader ran but
its reply failed a check or said the documents don't say, so the answer is the grounded claim or an
abstention. Engines run one after the other on each set (same questions, same index), so the reader's prompt
cache holds only its system prompt when a question starts. The baselines cite their 4 retrieved chunks, refuse
when they say they do not know (a regex), have no tiers (every answer counts as `sure`) and ignore the
conversation."""
