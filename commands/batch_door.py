"""`artifier transfer PHOTOS... --top K [--blend N]`: a progress bar over photos x
matches, the contact page, the failures listed, and an exit status that says whether any
failed."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

from artifier.session import Artifier
from batch.contact import write_contact
from batch.run import check_blend, paint_batch, photos_of, results_per_photo
from core.errors import ConfigError, OutputError
from core.progress import progress_bar


def batch_command(sources: list[Path], top: int, out_dir: Path, cfg: dict[str, Any],
                  index: Path, blend: Optional[int] = None) -> int:
    """Paint the batch; 0 when every photo and painting was made, 2 when some failed."""
    if top < 1:
        raise ConfigError("--top must be at least 1")
    check_blend(blend)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"cannot write the batch into {out_dir}: it is a file; -o names "
                          "a folder for a batch")
    photos = photos_of(sources)
    with Artifier(index, config=cfg) as art, progress_bar("painting") as bar:
        task = bar.add_task("batch", total=len(photos) * results_per_photo(top, blend),
                            status="")
        report = paint_batch(art, photos, out_dir, top,
                             lambda done, total: bar.update(task, completed=done), blend)
    page, sheet = write_contact(report, out_dir)
    outside = report.seconds - report.painting_seconds
    print(f"{report.painted} painted, {report.skipped} already done, {len(report.failed)} "
          f"failed in {report.seconds:.0f} s ({outside:.0f} s outside painting)",
          file=sys.stderr)
    for failure in report.failed:
        print(f"failed: {failure}", file=sys.stderr)
    print(page)
    print(sheet)
    return 2 if report.failed else 0
