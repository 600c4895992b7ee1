"""The `artifier` command."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from core.errors import ArtifierError, ConfigError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Turn a photo into a painting with a painting it finds by itself.")
index_app = typer.Typer(no_args_is_help=True, help="Build and inspect an art-collection index.")
app.add_typer(index_app, name="index")

Sets = Annotated[Optional[list[str]], typer.Option(
    "--set", help="Override a config key: section.key=value (TOML value). Repeatable.")]
ConfigPath = Annotated[Optional[Path], typer.Option(
    "--config", help="Config file instead of configs/default.toml.")]
Device = Annotated[Optional[str], typer.Option(help="auto, cpu or cuda[:N].")]
Backbone = Annotated[Optional[str], typer.Option(
    help="vgg19-caffe, vgg19-caffe-q8, vgg19-torchvision or vgg16-torchvision.")]
Weights = Annotated[Optional[Path], typer.Option(
    help="Weights file for the torchvision backbones.")]
IndexDir = Annotated[Path, typer.Option("--index", help="Index directory.")]

DEFAULT_INDEX = Path("indexes/art")


def _number_or_auto(text: Optional[str]) -> float | str | None:
    if text is None or text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f'--strength must be a number from 0 to 1 or "auto", '
                          f'got {text!r}') from None


def _config(config: Optional[Path], sets: Optional[list[str]], **direct: Any) -> dict[str, Any]:
    """The config with --set overrides, then the command's own options on top."""
    from core.config import load_config, toml_value

    overrides = list(sets or [])
    overrides += [f"{key}={toml_value(value)}" for key, value in direct.items() if value is not None]
    return load_config(config, overrides)


@app.command()
def transfer(
    photos: Annotated[list[Path], typer.Argument(
        help="The photo to paint; several photos or a folder paint each with its --top "
             "matches into the -o folder.")],
    style: Annotated[Optional[Path], typer.Option(
        help="The painting to paint with; without it the best match is retrieved.")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "-o", "--output", help="Result PNG (default: out/PHOTO-STYLE.png).")] = None,
    triptych: Annotated[bool, typer.Option(
        help="Write photo | painting | result side by side instead of the result alone.")] = False,
    size: Annotated[Optional[int], typer.Option(help="Long side of the result.")] = None,
    schedule: Annotated[Optional[str], typer.Option(
        help="instant (one pass, seconds), quick, fast, long or auto (quick on a CPU, long "
             "on CUDA).")] = None,
    seed: Annotated[Optional[int], typer.Option()] = None,
    index: Annotated[Path, typer.Option(help="Index used when --style is not given.")] = DEFAULT_INDEX,
    pick: Annotated[int, typer.Option(help="Use the N-th retrieved match (1 = best).")] = 1,
    top: Annotated[Optional[int], typer.Option(
        help="Paint each photo with each of its best N matches (a batch: -o is a folder, "
             "default out/batch, with a contact page).")] = None,
    blend: Annotated[Optional[int], typer.Option(
        help="Paint with the best pieces of the top N matches together (a blend); in a "
             "batch, each photo's blend beside its --top results.")] = None,
    mask: Annotated[Optional[Path], typer.Option(
        help="Paint only where this image is white; the rest keeps the photo.")] = None,
    strength: Annotated[Optional[str], typer.Option(
        help="How much of the painting goes in: 0 keeps the photo, 1 paints hardest; "
             "auto (default) picks it for the pair.")] = None,
    provenance: Annotated[Optional[Path], typer.Option(
        help="Also write this PNG: the result beside the painting, tinted so that a colour "
             "on the result marks where in the painting that part came from.")] = None,
    preserve_colour: Annotated[Optional[bool], typer.Option(
        "--preserve-colour/--painting-colour",
        help="Keep the photo's colours and take only light and strokes from the painting.")] = None,
    device: Device = None, backbone: Backbone = None, weights: Weights = None,
    config: ConfigPath = None, sets: Sets = None,
) -> None:
    """Paint PHOTO with the pieces of a painting; or a batch of photos with their matches."""
    cfg = _config(config, sets, **{
        "transfer.size": size, "transfer.schedule": schedule, "transfer.seed": seed,
        "transfer.preserve_colour": preserve_colour,
        "transfer.strength": _number_or_auto(strength),
        "backbone.device": device, "backbone.name": backbone,
        "backbone.weights": str(weights) if weights else None})
    if top is not None or len(photos) > 1 or photos[0].is_dir():
        from commands.batch_door import batch_command

        if style or mask or provenance or triptych or pick != 1:
            raise ConfigError("a batch paints each photo with its own --top matches; "
                              "--style, --mask, --provenance, --triptych and --pick are for "
                              "one photo")
        code = batch_command(photos, top or 1, output or Path("out/batch"), cfg, index, blend)
        raise typer.Exit(code)
    from commands.paint_door import paint_command

    typer.echo(str(paint_command(photos[0], style, output, triptych, cfg, index, pick, mask,
                                 provenance, blend)))


@app.command()
def retrieve(
    photo: Annotated[Path, typer.Argument(help="The photo to find paintings for.")],
    top: Annotated[int, typer.Option(help="How many matches to show.")] = 10,
    index: IndexDir = DEFAULT_INDEX,
    exact: Annotated[bool, typer.Option(
        help="Score every artwork exactly instead of the FAISS shortlist (slow; the truth).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    sheet: Annotated[Optional[Path], typer.Option(
        help="Write a contact sheet PNG of the photo and the matches.")] = None,
    device: Device = None, config: ConfigPath = None, sets: Sets = None,
) -> None:
    """Find the artworks whose patches best rebuild PHOTO."""
    from artifier.session import Artifier
    from core.files import refuse_overwrite
    from core.images import check_output
    from retrieval.output import print_table
    from retrieval.sheet import contact_sheet

    cfg = _config(config, sets, **{"backbone.device": device})
    if sheet:
        refuse_overwrite({"sheet": sheet}, {"photo": photo})
        check_output(sheet)
    with Artifier(index, config=cfg) as art:
        result = art.search(photo, top, exact)
    if sheet:
        contact_sheet(photo, result.matches, sheet, cfg["images"]["max_pixels"])
    if as_json:
        typer.echo(json.dumps({"photo": str(photo), "index": str(index), "exact": exact}
                              | result.as_dict(), indent=2))
    else:
        print_table(result)
    if result.gone:
        typer.echo(f"note: {result.gone} matching artworks left the collection since the last "
                   f"build and were skipped; run `artifier index build` to update {index}",
                   err=True)


@app.command()
def serve(
    index: IndexDir = DEFAULT_INDEX,
    host: Annotated[Optional[str], typer.Option(
        help="Address to listen on; the default 127.0.0.1 keeps it to this machine.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default 8000).")] = None,
    results: Annotated[Optional[Path], typer.Option(
        help="Folder for uploads, results and the gallery (default studio-results).")] = None,
    device: Device = None, config: ConfigPath = None, sets: Sets = None,
) -> None:
    """Artifier Studio: a local web page to find paintings for a photo, paint and browse."""
    from studio.serve import serve as run_studio

    cfg = _config(config, sets, **{"studio.host": host, "studio.port": port,
                                   "studio.results": str(results) if results else None,
                                   "backbone.device": device})
    run_studio(cfg, index)


def main() -> None:
    """Entry point: a user's mistake is one line on stderr and exit status 1."""
    try:
        app()
    except ArtifierError as exc:
        from rich.console import Console
        from rich.markup import escape

        # Escaped: a message may hold brackets (pip install -e '.[cluster]', a file name).
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False,
                                   soft_wrap=True)
        sys.exit(1)


@index_app.command("build")
def index_build(
    art_dir: Annotated[Path, typer.Argument(help="Folder of artworks (any tree; metadata.csv optional).")],
    index: IndexDir = DEFAULT_INDEX,
    engine: Annotated[str, typer.Option(
        help="local: this process. ray: a pool of Ray actors (pip install -e '.[cluster]'); "
             "on a cluster, the art folder and --index must be on storage every node "
             "reads.")] = "local",
    address: Annotated[Optional[str], typer.Option(
        help="With --engine ray: the Ray cluster to join (ray.init's address); default: "
             "the one `ray start` runs here, else a new one on this machine.")] = None,
    device: Device = None, backbone: Backbone = None, weights: Weights = None,
    config: ConfigPath = None, sets: Sets = None,
) -> None:
    """Build or update the index of an art collection; re-run to resume, add new images,
    drop deleted ones and repair damage."""
    from artifier.indexing import build_index
    from core.errors import CollectionError
    from index_build.report import print_build_report

    cfg = _config(config, sets, **{"backbone.device": device, "backbone.name": backbone,
                                   "backbone.weights": str(weights) if weights else None})
    report = build_index(art_dir, index, engine, cfg, address)
    print_build_report(report, index)
    if report.counts["done"] == 0:
        raise CollectionError(f"nothing could be indexed: all {report.counts['failed']} "
                              f"images in {art_dir} failed (reasons above)")


@index_app.command("status")
def index_status(index_dir: Annotated[Path, typer.Argument(help="Index directory.")]) -> None:
    """Counts of done, failed (with reasons) and pending artworks."""
    from index_build.report import print_status

    print_status(index_dir)


@index_app.command("verify")
def index_verify(index_dir: Annotated[Path, typer.Argument(help="Index directory.")]) -> None:
    """Check every file of the index (sizes, checksums, counts); exit 1 naming each problem."""
    from artifier.indexing import verify_index

    problems = verify_index(index_dir)
    for problem in problems:
        typer.echo(f"{index_dir}/{problem}")
    if problems:
        typer.echo(f"{len(problems)} problem{'s' * (len(problems) > 1)}; `artifier index build ART_DIR --index {index_dir}` "
                   "repairs them", err=True)
        raise typer.Exit(1)
    typer.echo(f"{index_dir}: ok")
