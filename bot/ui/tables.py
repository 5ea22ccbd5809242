"""The documents table and the facts table.

The facts table shows what a reader can check: the value with its unit, the quantity as the document
writes it, whose it is (or an honest blank), its role in a change (from/to) or a bound, and the
sentence it comes from with the quantity marked. A value is only normalised where that is exact:
an approximate or open-ended quantity ("billions of yuan") is shown as written, never as a made-up
range.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.models import Fact
from bot.store import DocRecord
from bot.ui.render import esc
from bot.ui.uploads import UPLOAD_PREFIX

DOC_HEADERS = ["document", "chunks", "facts", "indexed", "origin"]
FACT_HEADERS = ["subject", "measure", "value", "role", "as written", "period", "kind", "source"]
FACT_KINDS = ["all", "count", "money", "percent", "ratio", "date", "period", "other"]
NO_SUBJECT = "—"
ROLES = {"from": "from", "to": "to", "upper_bound": "at most", "lower_bound": "at least"}


def doc_rows(documents: Sequence[DocRecord]) -> list[list[Any]]:
    """Build the rows of the documents table."""
    return [
        [
            d.source,
            d.chunks,
            d.facts,
            d.indexed_at.replace("T", " ").replace("+00:00", " UTC"),
            "upload" if d.source.startswith(UPLOAD_PREFIX) else "docs folder",
        ]
        for d in documents
    ]


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.4g}"


def _unit_as_written(f: Fact) -> str:
    """The unit as the document writes it when that is the same word (``vehicles`` for ``vehicle``)."""
    unit = f.unit or ""
    last = f.quantity_text.split()[-1] if f.quantity_text.split() else ""
    if " " not in unit and last.lower().startswith(unit.lower()) and last.isalpha():
        return last
    return unit


def fact_value(f: Fact) -> str:
    """The value with its unit (``81,864 vehicles``, ``10%``, ``200,000–300,000 yuan``; ``≈`` when hedged).

    Empty for an open-ended quantity ("billions of yuan", "more than 5"): the document gives no
    value to show, and the "as written" column carries it.
    """
    unit = "%" if f.kind == "percent" and not f.unit else (f" {_unit_as_written(f)}" if f.unit else "")
    if f.value is not None:
        text = _num(f.value) + unit
    elif f.low is not None and f.high is not None:
        text = f"{_num(f.low)}–{_num(f.high)}{unit}"
    else:
        return ""
    return f"≈ {text}" if f.approximate else text


def _row(f: Fact) -> list[str]:
    return [
        f.subject or NO_SUBJECT,
        f.measure or "",
        fact_value(f),
        ROLES.get(f.role or "", f.role or ""),
        f.quantity_text,
        f.period or "",
        f.kind,
        f"{f.source}:{f.start}–{f.end}",
    ]


def _matching(facts: Sequence[Fact], query: str, kind: str) -> list[tuple[Fact, list[str]]]:
    q = (query or "").strip().lower()
    out = []
    for f in facts:
        if kind not in ("", "all", None) and f.kind != kind:
            continue
        row = _row(f)
        haystack = [*row, f.sentence, *f.subject_aliases, f.object or ""]
        if q and not any(q in str(cell).lower() for cell in haystack):
            continue
        out.append((f, row))
    return out


def fact_rows(facts: Sequence[Fact], query: str = "", kind: str = "all") -> list[list[str]]:
    """Rows of the facts table (see :data:`FACT_HEADERS`), filtered by a substring and a kind."""
    return [row for _f, row in _matching(facts, query, kind)]


def _marked_sentence(f: Fact) -> str:
    a, b = f.start - f.sentence_start, f.end - f.sentence_start
    s = f.sentence
    if 0 <= a < b <= len(s):
        return f"{esc(s[:a])}<mark>{esc(s[a:b])}</mark>{esc(s[b:])}"
    return esc(s)


def render_facts(facts: Sequence[Fact], query: str = "", kind: str = "all", limit: int = 500) -> str:
    """Render the facts table as HTML: one row per fact, then a detail row with its sentence.

    The sentence is also the row's tooltip. All text is escaped.
    """
    matching = _matching(facts, query, kind)
    if not matching:
        return '<div class="facts-scroll"><p class="blank">No facts match.</p></div>'
    head = "".join(f"<th>{esc(h)}</th>" for h in FACT_HEADERS)
    body = []
    for f, row in matching[:limit]:
        cells = []
        for header, cell in zip(FACT_HEADERS, row, strict=True):
            if header == "subject" and cell == NO_SUBJECT:
                cells.append(f'<td class="blank" title="The sentence does not say whose it is">{NO_SUBJECT}</td>')
            elif header == "role" and cell:
                cells.append(f'<td class="role">{esc(cell)}</td>')
            else:
                cells.append(f"<td>{esc(cell)}</td>")
        body.append(f'<tr class="fact-row" title="{esc(f.sentence)}">{"".join(cells)}</tr>')
        body.append(f'<tr class="fact-detail"><td colspan="{len(FACT_HEADERS)}">{_marked_sentence(f)}</td></tr>')
    extra = len(matching) - limit
    more = f'<p class="blank">{extra} more: narrow the filter.</p>' if extra > 0 else ""
    return (
        f'<div class="facts-scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        f"{more}</div>"
    )
