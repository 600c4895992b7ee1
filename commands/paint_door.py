"""`artifier transfer`: outputs checked before any work, a progress bar, the PNGs written.
The painting itself is the Python API's (artifier/session.py)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import torch

from artifier.session import Artifier
from batch.run import check_blend
from core.errors import ConfigError
from core.files import refuse_overwrite
from core.images import check_output, save_png
from core.progress import progress_bar
from index_build.sources import parquet_row
from transfer.clock import painting_clock


def paint_command(photo: Path, style: Optional[Path], output: Optional[Path], triptych: bool,
                  cfg: dict[str, Any], index: Path, pick: int, mask: Optional[Path] = None,
                  provenance: Optional[Path] = None, blend: Optional[int] = None) -> Path:
    """Paint `photo` and write a PNG whose text chunks hold the settings used."""
    outputs = {"output": output, "provenance map": provenance}
    refuse_overwrite(outputs, {"photo": photo, "painting": style, "mask": mask})
    for path in (output, provenance):
        if path:
            check_output(path)
    if pick < 1:
        raise ConfigError("--pick must be at least 1")
    check_blend(blend)
    if blend and (style or pick != 1):
        raise ConfigError("--blend paints with the top matches; it takes no --style or --pick")
    with Artifier(index, config=cfg) as art:
        painting: Any = style
        if blend:
            painting = art.retrieve(photo, top=blend)
            if len(painting) < blend:
                raise ConfigError(f"--blend {blend}: the index holds only {len(painting)} "
                                  "artworks")
            for n, match in enumerate(painting, start=1):
                refuse_overwrite(outputs, {f"painting {n}": Path(match.path)})
            output = output or check_output(Path("out") / f"{photo.stem}-blend-{blend}.png")
        elif style is None:
            matches = art.retrieve(photo, top=pick)
            if len(matches) < pick:
                raise ConfigError(f"--pick {pick}: the index holds only {len(matches)} artworks")
            painting, style = matches[pick - 1], Path(matches[pick - 1].path)
            refuse_overwrite(outputs, {"painting": style})
        if output is None:
            row = parquet_row(style)
            output = check_output(Path("out") / f"{photo.stem}-{row[0].stem}-{row[1]}.png"
                                  if row else Path("out") / f"{photo.stem}-{style.stem}.png")
        _, scales, iterations = art.steps()
        with progress_bar("it") as bar:
            task = bar.add_task("painting", total=sum(iterations), status="", left=None)
            seconds_left = painting_clock(scales, iterations)

            def on_step(step: int, total: int, values: dict[str, float], _: torch.Tensor) -> None:
                shown = " ".join(f"{k} {v:.3g}" for k, v in values.items())
                bar.update(task, completed=step, status=shown, left=seconds_left(step))

            result = art.paint(photo, painting, mask=mask, progress=on_step)
    if cfg["transfer"]["strength"] == "auto":
        print(f"strength {result.settings['transfer']['strength']:.2f} (auto)", file=sys.stderr)
    if provenance:
        tinted = result.provenance()
        if tinted is None:
            print("note: strength 0 paints nothing, so there is no provenance map",
                  file=sys.stderr)
        else:
            save_png(tinted, provenance, {"artifier": result.settings})
    return result.save(output, triptych)
