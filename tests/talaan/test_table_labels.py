"""On a phone each table row is a card and each cell shows its column's name from its
``data-label`` (static/css/talaan.css): a cell without one would show a bare value."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_every_table_cell_in_the_templates_names_its_column():
    unlabelled = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(template.read_text().splitlines(), start=1):
            for cell in re.findall(r"<td(?=[\s>])[^>]*>", line):
                # A cell spanning every column ("No applications match.") is not a column's.
                if "data-label=" not in cell and "colspan=" not in cell:
                    unlabelled.append(f"{template.relative_to(TEMPLATES)}:{number}: {cell}")
    assert not unlabelled, 'Give each cell data-label="<its column\'s header>":\n' + "\n".join(
        unlabelled
    )
