"""The retrieval table."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from retrieval.search import Retrieval


def print_table(result: Retrieval) -> None:
    table = Table("rank", "score", "artist", "title", "style", "path")
    for m in result.matches:
        table.add_row(str(m.rank), f"{m.score:.2f}", m.artist, m.title, m.style, m.path)
    console = Console(soft_wrap=True)
    console.print(table)
    stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in result.timings.items())
    console.print(f"{result.photo_patches} photo patches; {stages}", highlight=False)
