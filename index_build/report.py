"""What a build and `index status` print."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console

from core.errors import IndexMissingError
from index_build import catalog as cat
from index_build.build import BuildReport
from index_build.manifest import built_precision, require_index

out = Console(soft_wrap=True)


def _failures(failures: list[tuple[str, str]], limit: int = 20) -> None:
    if not failures:
        return
    out.print(f"[bold red]{len(failures)} failed:[/]")
    for path, error in failures[:limit]:
        out.print(f"  {path}: {error}", highlight=False, soft_wrap=True)
    if len(failures) > limit:
        out.print(f"  ... and {len(failures) - limit} more (artifier index status)")


def print_build_report(report: BuildReport, index_dir: Path) -> None:
    for line in report.repairs:
        out.print(f"[bold yellow]repaired:[/] {line}", highlight=False)
    for line in report.notes:
        out.print(f"note: {line}", highlight=False)
    c = report.counts
    out.print(f"index {index_dir}: {c['done']} done, {c['failed']} failed, {c['pending']} pending, "
              f"{c['indexed']} indexed")
    out.print(f"this run: {report.added} new, {report.changed} changed, {report.gone} gone, "
              f"{report.extracted} extracted in {report.feature_seconds:.1f} s, "
              f"{report.indexed_now} indexed, {report.removed_now} removed "
              f"(train {report.train_seconds:.1f} s, add {report.add_seconds:.1f} s)")
    _failures(report.failures)


def print_status(index_dir: Path) -> None:
    manifest = require_index(index_dir, faiss=False)
    if not (index_dir / cat.CATALOG_FILE).is_file():
        raise IndexMissingError(f"no index at {index_dir}")
    db = cat.open_catalog(index_dir, readonly=True)
    try:
        c = cat.counts(db)
        out.print(f"index {index_dir} ({manifest.get('backbone')}, {manifest.get('layer')} at "
                  f"{manifest.get('image_size')} px in {built_precision(manifest)}, "
                  f"{manifest.get('factory', 'not trained yet')}, "
                  f"{manifest.get('patches', 0):,} patches) of {manifest.get('collection')}")
        out.print(f"done {c['done']}, failed {c['failed']}, pending {c['pending']}, "
                  f"gone {c['missing']}, indexed {c['indexed']}")
        _failures(cat.failures(db), limit=10_000)
    finally:
        db.close()
