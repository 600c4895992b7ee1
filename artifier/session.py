"""`Artifier`: the network loaded once and the index opened on first use, across any number
of retrievals and paintings. The command line and scripts both go through it."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

import torch
from PIL import Image

from artifier.inputs import ImageLike, as_image
from artifier.painting import Painting
from core.backbone import Backbone
from core.config import load_config, toml_value, with_overrides
from core.device import pick_device
from core.errors import ConfigError, IndexMissingError
from core.images import load_image
from core.session import backbone_from_config
from index_build.sources import open_located, parquet_row
from retrieval.search import Match, Retrieval, check_top, query
from transfer.budget import check_memory
from transfer.checks import as_list, check_settings
from transfer.engine import Progress, resolve_schedule
from transfer.run import paint_pair, result_settings

PaintingLike = Union[None, Match, str, Path, Image.Image]


def _override_list(overrides: dict[str, Any], cfg: dict[str, Any]) -> list[str]:
    """`key=value` keywords as `section.key=value`: a key names the one section that has it
    (`size` is transfer.size, `k` retrieval.k); `section__key` says which when several do."""
    found = []
    for key, value in overrides.items():
        section, _, name = key.rpartition("__")
        sections = [section] if section else [s for s in cfg if name in cfg[s]]
        if len(sections) != 1 or name not in cfg.get(sections[0], {}):
            raise ConfigError(f"unknown setting {key!r}" if not sections else
                              f"{key!r} is in {', '.join(sections)}; say which as SECTION__{key}")
        found.append(f"{sections[0]}.{name}={toml_value(value)}")
    return found


class Artifier:
    """Find paintings for photos and paint them, keeping the network and the index open.

    >>> art = Artifier(index="indexes/art")               # doctest: +SKIP
    >>> best = art.retrieve("photo.jpg", top=5)[0]        # doctest: +SKIP
    >>> art.paint("photo.jpg", best, size=256).save("out.png")  # doctest: +SKIP

    `config` is a TOML file over configs/default.toml (or a loaded config); keywords
    override single settings, as `--set` does: `Artifier(k=2048, style_weight=30)`.
    """

    def __init__(self, index: Optional[str | Path] = None, device: str = "auto",
                 config: Optional[str | Path | dict[str, Any]] = None, **overrides: Any):
        base = config if isinstance(config, dict) else load_config(config)
        if device != "auto" or not isinstance(config, dict):
            base = with_overrides(base, [f"backbone.device={toml_value(device)}"])
        self.cfg = with_overrides(base, _override_list(overrides, base))
        self.index = Path(index) if index is not None else None
        self._network: Optional[tuple[Backbone, torch.device]] = None
        self._view: Any = None

    @property
    def network(self) -> tuple[Backbone, torch.device]:
        """The backbone and its device, loaded on first use and kept."""
        if self._network is None:
            self._network = backbone_from_config(self.cfg)
        return self._network

    def index_view(self) -> Any:
        """The index, opened on first use and kept (retrieval/catalog_view.py)."""
        if self.index is None:
            raise IndexMissingError("no index to search: name one, Artifier(index=DIR)")
        if self._view is None:
            from retrieval.catalog_view import IndexView  # FAISS loads here, once

            self._view = IndexView(self.index, self.network[0], self.cfg)
        return self._view

    def search(self, photo: ImageLike, top: int = 10, exact: bool = False,
               style: Optional[str] = None) -> Retrieval:
        """`retrieve` with the timings of each stage and the count of matches skipped
        because their file left the collection."""
        check_top(top)
        backbone, device = self.network
        image = (Path(photo) if isinstance(photo, (str, Path))
                 else as_image(photo, self.cfg["images"]["max_pixels"]))
        return query(self.index_view(), backbone, device, image, top, exact, self.cfg, style)

    def retrieve(self, photo: ImageLike, top: int = 10, exact: bool = False,
                 style: Optional[str] = None) -> list[Match]:
        """The `top` artworks whose patches best rebuild the photo, best first; `exact`
        scores every artwork, `style` keeps one style of the collection.

        >>> [m.name for m in art.retrieve("photo.jpg", top=3)]  # doctest: +SKIP
        """
        return self.search(photo, top, exact, style).matches

    def transfer_settings(self, **settings: Any) -> dict[str, Any]:
        """The transfer section with these settings (None keeps the config's), checked."""
        given = {key: value for key, value in settings.items() if value is not None}
        return with_overrides(self.cfg, [f"transfer.{k}={toml_value(v)}"
                                         for k, v in given.items()])["transfer"]

    def steps(self, schedule: Optional[str] = None) -> tuple[str, list[float], list[int]]:
        """The schedule a painting will run: its name, scales and steps at each."""
        return resolve_schedule(self.transfer_settings(schedule=schedule),
                                pick_device(self.cfg["backbone"]["device"]))

    def paint(self, photo: ImageLike, painting: PaintingLike | list[PaintingLike] = None, *,
              size: Optional[int] = None, schedule: Optional[str] = None,
              strength: Optional[float | str] = None, preserve_colour: Optional[bool] = None,
              mask: Optional[ImageLike] = None, seed: Optional[int] = None,
              progress: Optional[Progress] = None) -> Painting:
        """The photo painted with the pieces of `painting`: a Match, a file (or a parquet
        row, SHARD.parquet#ROW), a PIL image, or None for the best match in the index. A
        list of them is a blend: each photo patch takes its best piece from any of them
        (transfer/blend.py). Settings left None are the config's; `progress(step, total,
        losses, image)` is called after each step.

        >>> art.paint(photo_img, "starry-night.jpg", size=256, strength=0.8).image  # doctest: +SKIP
        >>> art.paint("photo.jpg", art.retrieve("photo.jpg", top=3))  # a blend  # doctest: +SKIP
        """
        tcfg = self.transfer_settings(size=size, schedule=schedule, strength=strength,
                                      preserve_colour=preserve_colour, seed=seed)
        max_pixels = self.cfg["images"]["max_pixels"]
        photo_img = (load_image(photo, max_pixels, tcfg["size"])
                     if isinstance(photo, (str, Path)) else as_image(photo, max_pixels))
        check_memory(photo_img, tcfg, pick_device(self.cfg["backbone"]["device"]),
                     1 if painting is None else len(as_list(painting)))
        mask_img = None if mask is None else as_image(mask, max_pixels, "mask")
        if painting is None:
            painting = self.retrieve(photo_img, top=1)[0]
        given = as_list(painting)
        if not given:
            raise ConfigError("a blend needs at least one painting")
        opened = [_opened(one, max_pixels) for one in given]
        images = [image for image, _, _ in opened]
        check_settings(photo_img, images, tcfg, mask_img)
        backbone, device = self.network
        painted = paint_pair(photo_img, images, backbone, device, tcfg, progress, mask_img)
        names = [name for _, name, _ in opened]
        located = [str(path) if path else None for _, _, path in opened]
        settings = result_settings(_named(photo), located if len(given) > 1 else located[0],
                                   _named(mask), resolve_schedule(tcfg, device)[0], self.cfg,
                                   device, painted.cfg)["artifier"]
        if len(given) > 1:
            settings["blend"] = [{"name": name, "share": round(share, 4)}
                                 for name, share in zip(names, painted.shares)]
        sources = {"photo": _path(photo), "mask": _path(mask)} | {
            f"painting {n + 1}" if len(given) > 1 else "painting": _path(path)
            for n, (_, _, path) in enumerate(opened)}
        return Painting(painted.image, photo_img, images[0], " + ".join(names), settings,
                        painted.boxes, sources, images[1:], painted.painting_of)

    def close(self) -> None:
        """Close the index (the network is freed with the object)."""
        if self._view is not None:
            self._view.close()
            self._view = None

    def __enter__(self) -> "Artifier":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _opened(painting: PaintingLike, max_pixels: int
            ) -> tuple[Image.Image, str, Optional[str | Path]]:
    """A painting given as a Match, a file, a parquet row or an image: the image, its
    name, and where it was read from (None for an image in memory)."""
    located = (painting.path if isinstance(painting, Match)
               else painting if isinstance(painting, (str, Path)) else None)
    image = (open_located(located, max_pixels) if located is not None
             else as_image(painting, max_pixels, "painting"))
    name = painting.name if isinstance(painting, Match) else _painting_name(located)
    return image, name, located


def _painting_name(located: Optional[str | Path]) -> str:
    if located is None:
        return "painting"
    row = parquet_row(located)
    return f"{row[0].stem}#{row[1]}" if row else Path(located).stem


def _path(source: Any) -> Optional[Path]:
    return Path(source) if isinstance(source, (str, Path)) and parquet_row(source) is None \
        else None


def _named(source: Any) -> Optional[str]:
    """How a result's settings name an input: its path, or what kind of object it was."""
    if source is None:
        return None
    return str(source) if isinstance(source, (str, Path)) else type(source).__name__
