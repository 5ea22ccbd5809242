"""The report's charts, drawn on matplotlib's Agg canvas (no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, out: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(out / name, dpi=100)
    return name


def score_by_kind(summary: Mapping[str, Any], out: Path) -> str | None:
    """``score_by_kind.png``: all checks and own words per question kind."""
    kinds = summary["by_kind"]
    if not kinds:
        return None
    fig = _figure(7, 0.45 * len(kinds) + 1.2)
    ax = fig.add_subplot()
    labels = list(kinds)
    scores = [kinds[k]["score"] * 100 for k in labels]
    own = [kinds[k].get("own_words", 0.0) * 100 for k in labels]
    pos = list(range(len(labels)))
    bars = ax.barh([p - 0.2 for p in pos], scores, height=0.4, color="#4c72b0", label="all checks")
    ax.barh([p + 0.2 for p in pos], own, height=0.4, color="#dd8452", label="own words")
    ax.set_yticks(pos, labels)
    for bar, k in zip(bars, labels, strict=True):
        ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2,
                f"{kinds[k]['passed']}/{kinds[k]['n']}", va="center", fontsize=8)  # fmt: skip
    ax.set_xlim(0, 112)
    ax.invert_yaxis()
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("questions (%)")
    ax.set_title(f"Score by question kind (all checks {summary['score']:.0%}, own words {summary['own_words']:.0%})")
    return _save(fig, out, "score_by_kind.png")


def latency(summary: Mapping[str, Any], latencies: Sequence[float], out: Path) -> str | None:
    """``latency.png``: histogram of answer latencies with p50 and p95."""
    if not latencies:
        return None
    fig = _figure(7, 3.2)
    ax = fig.add_subplot()
    ax.hist(latencies, bins=min(30, max(5, len(latencies) // 3)), color="#55a868")
    lat = summary["latency_ms"]
    for value, label, style in ((lat["p50"], "p50", "--"), (lat["p95"], "p95", ":")):
        ax.axvline(value, color="k", linestyle=style, label=f"{label} {value:,.0f} ms")
    ax.set_xlabel("latency (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Answer latency")
    ax.legend()
    return _save(fig, out, "latency.png")


def risk_coverage(trust: Mapping[str, Any], out: Path) -> str | None:
    """``risk_coverage.png``: precision of the claims against coverage, answering above each confidence."""
    rc = trust["risk_coverage"]
    if not rc["points"]:
        return None
    fig = _figure(6, 4)
    ax = fig.add_subplot()
    xs = [0.0] + [p["coverage"] * 100 for p in rc["points"]]
    ys = [rc["points"][0]["precision"] * 100] + [p["precision"] * 100 for p in rc["points"]]
    ax.plot(xs, ys, color="#4c72b0", drawstyle="steps-pre", label="claims above a confidence threshold")
    if trust["precision"] is not None:
        ax.scatter([trust["coverage"] * 100], [trust["precision"] * 100], color="#c44e52", zorder=3,
                   label=f"stated: precision {trust['precision']:.0%}, coverage {trust['coverage']:.0%}")  # fmt: skip
    base = trust.get("baseline")
    if base:
        ax.scatter([100], [base["rate"] * 100], marker="x", color="k", zorder=3,
                   label=f"\"{base['answer']}\" to everything: {base['rate']:.0%}")  # fmt: skip
    ax.set_xlim(0, 102)
    ax.set_ylim(0, 102)
    ax.set_xlabel("coverage (% of all questions answered)")
    ax.set_ylabel("precision (% of those right)")
    aurc = "n/a" if rc["aurc"] is None else f"{rc['aurc']:.3f}"
    ax.set_title(f"Precision against coverage (AURC {aurc}, lower is better)")
    ax.legend(loc="lower left", fontsize=8)
    return _save(fig, out, "risk_coverage.png")


def reliability(trust: Mapping[str, Any], out: Path) -> str | None:
    """``reliability.png``: accuracy of the claims per confidence bin, against the diagonal."""
    rel = trust["reliability"]
    if not rel["n"]:
        return None
    fig = _figure(5, 4.5)
    ax = fig.add_subplot()
    width = (rel["bins"][0]["hi"] - rel["bins"][0]["lo"]) * 100
    filled = [b for b in rel["bins"] if b["n"]]
    bars = ax.bar([(b["lo"] + b["hi"]) * 50 for b in filled], [b["accuracy"] * 100 for b in filled],
                  width=width * 0.9, color="#4c72b0", label="claims right")  # fmt: skip
    ax.scatter([b["confidence"] * 100 for b in filled], [b["accuracy"] * 100 for b in filled], color="#dd8452",
               zorder=3, s=14, label="mean confidence")  # fmt: skip
    for bar, b in zip(bars, filled, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 1, str(b["n"]), ha="center", fontsize=7)
    ax.plot([0, 100], [0, 100], color="k", linestyle="--", linewidth=1, label="perfect calibration")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 108)
    ax.set_xlabel("confidence (%)")
    ax.set_ylabel("claims right (%)")
    ax.set_title(f"Reliability ({rel['n']} claims, ECE {rel['ece']:.3f})")
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, out, "reliability.png")


def draw(summary: Mapping[str, Any], latencies: Sequence[float], out: Path) -> list[str]:
    """Draw every chart the summary has data for into ``out``; return the file names."""
    names = [
        score_by_kind(summary, out),
        latency(summary, latencies, out),
        risk_coverage(summary["trust"], out),
        reliability(summary["trust"], out),
    ]
    return [n for n in names if n]
