"""Lists in a sentence: the names coordinated with one name, and counting them.

"Nio, Xpeng, and Li Auto" is one list: names joined only by commas and "and"/"or". A "how many
rivers?" that the documents answer with no number but with a list ("the Arden, Lune, and
Calder Rivers") is answered by counting it; the count is computed by the calculator (a recorded tool
call) and shown with the items it counts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.engine.evidence import Sentence
from bot.engine.operands import record
from bot.engine.phrase import finish, join_list
from bot.language.names import Name
from bot.language.tokens import key

if TYPE_CHECKING:
    from bot.engine.work import Work
    from bot.models import Answer

LIST_GAP = re.compile(r"^\s*(?:,|and|or|&|, and|, or|as well as|,? ?the)?\s*(?:the\s+)?$", re.IGNORECASE)
"""What may stand between two items of one list."""
MIN_ITEMS = 2


def coordinated(s: Sentence, names: list[Name], at: int, ahead: bool = True) -> list[Name]:
    """The names of ``names`` in one list with ``names[at]``, in sentence order (``ahead``: also after it)."""
    group = [names[at]]
    for step in (-1, 1) if ahead else (-1,):
        k = at
        while 0 <= k + step < len(names):
            a, b = (names[k + step], names[k]) if step < 0 else (names[k], names[k + step])
            if not LIST_GAP.match(s.record.text[a.end - s.record.start : b.start - s.record.start]):
                break
            group.append(names[k + step])
            k += step
    return sorted(group, key=lambda n: n.start)


def count_listed(w: Work, sentences: list[Sentence]) -> Answer | None:
    """Answer "how many <things>?" by counting the things a sentence lists by name, or None."""
    head = key(w.q.head) if w.q.head else None
    if not head:
        return None
    for s in sentences:
        names = s.parsed.names
        toks = s.parsed.tokens
        for at, nm in enumerate(names):
            # the asked noun closes the list ("... and Ohio Rivers") or follows it ("Nio and Xpeng shares")
            tail = nm.j - 1 if toks[nm.j - 1].key == head else None
            after = nm.j if tail is None and nm.j < len(toks) and toks[nm.j].key == head else None
            if tail is None and after is None:
                continue
            group = coordinated(s, names, at, ahead=False)  # the asked noun closes the list
            if len(group) < MIN_ITEMS:
                continue
            items = [n.text for n in group]
            if tail is not None:
                items[-1] = " ".join(items[-1].split()[:-1]) or items[-1]
            result = record(w, " + ".join("1" for _ in items))
            if result is None:
                return None
            marks = w.cites.marks([s])
            return w.answer(finish(f"{round(result)}: {join_list(items)}", marks), kind="derived")
    return None
