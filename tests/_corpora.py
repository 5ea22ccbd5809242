"""Test corpora: the seed article and a second, made-up report unrelated to it."""

from __future__ import annotations

from pathlib import Path

SEED_PATH = Path(__file__).resolve().parent.parent / "seeds" / "huawei_auto_brand_alliances.txt"
SEED_TEXT = SEED_PATH.read_text(encoding="utf-8")

# A fictional battery-industry report: other entities, currencies (EUR/GBP), units (GWh, plants,
# people) and sentence shapes (dateline, pronoun subjects, appositives, "to X from Y", passive).
BATTERY_TEXT = (
    "Oslo - Nordvolt Energy expanded its European footprint from three to five plants in 2024, "
    "the company said in its annual report.\n"
    "The Swedish battery maker produced 42.5 GWh of cells in the third quarter, up 18% from a year earlier.\n"
    "Kestrel Batteries, a smaller rival, shipped about 9 GWh in the same quarter.\n"
    "In March, Halvard Motors paid €1.2 billion (about £1.03 billion) for a 15 percent stake in Nordvolt Energy.\n"
    "Brightcell also holds a 7% stake in Nordvolt, but it did not disclose what it paid.\n"
    "Nordvolt employs 12,400 people across its sites, while Kestrel Batteries employs roughly 3,100.\n"
    "Its flagship cell is priced at €95 (£81) per kilowatt-hour; analysts note that Orvane, a Chinese supplier, "
    "charges less.\n"
    "With 42.5 GWh, the group now out-produces rivals such as Orvane and Lumeo.\n"
    "Capacity at the new plant should reach between 20 and 30 GWh by 2027.\n"
    "Its revenue rose to €6.8 billion in 2024 from €5.1 billion a year earlier.\n"
    "A further 1,500 engineers were hired by Kestrel Batteries in November.\n"
)
