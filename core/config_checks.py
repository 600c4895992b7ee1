"""What a configuration must hold for Artifier to work at all, checked once when it is
loaded: a NaN weight, a negative step count or an unknown layer would otherwise paint a
black image, paint nothing or fail deep in the network with a message about something else."""
from __future__ import annotations

import math
from typing import Any

from core.errors import ConfigError
from core.layers import arch_of, layer_names

# Bounds of numeric settings a user may set out of range; each must hold for the code to
# work at all (a 0 would divide, loop forever or ask FAISS for nothing). None: no upper bound.
BOUNDS = {
    "images.max_pixels": (1, None), "transfer.size": (1, None),
    "transfer.learning_rate": (1e-9, None), "transfer.content_weight": (0, None),
    "transfer.instant.strength_power": (1e-9, None), "transfer.instant.palette_rotations": (0, 100),
    "transfer.instant.palette_rounds": (1, 10), "transfer.instant.keep_photo_power": (0, 10),
    "transfer.instant.painting_moments": (0, 1), "transfer.instant.recolour_photo": (0, 1),
    "transfer.style_weight": (0, None), "transfer.hist_weight": (0, None),
    "transfer.tv_weight": (0, None),
    "transfer.colour_weight": (0, None), "transfer.painting_share": (0, 1),
    "transfer.strength": (0, 1),
    "transfer.border_pad": (0, 64), "transfer.tile": (64, None), "transfer.orientations": (1, 8),
    "index.image_size": (48, None), "index.pca_train": (1, None),
    "index.ivf_train_per_list": (1, None), "index.ivf_train_max": (1, None),
    "index.shard_size": (1, None), "index.batch_size": (1, None), "index.workers": (0, None),
    "index.ray_workers": (0, None),
    "retrieval.k": (1, None), "retrieval.nprobe": (1, None), "retrieval.shortlist": (1, None),
    "retrieval.exact_batch": (1, None), "retrieval.resident_batch": (1, None),
    "retrieval.photo_rank": (0, None), "retrieval.rescore": (0, None),
    "retrieval.resident_gb": (0, None),
    "studio.port": (0, 65535), "studio.max_upload_mb": (1, None), "studio.matches": (1, 200),
    "studio.match_queue": (1, None), "studio.match_cache": (0, None),
    "studio.preview_seconds": (0, None),
}

# What transfer.precision, index.precision and retrieval.precision may be (core/precision.py
# resolves them; defined here, where no torch is imported, as the config is checked first).
PRECISIONS = ("auto", "float32", "bfloat16")

# What an optimisation may start from: the matched collage, or the decoded patch swap.
STARTS = ("collage", "swap")
# What may move the pixels: Adam, or L-BFGS (transfer/lbfgs.py).
OPTIMISERS = ("adam", "lbfgs")
# Settings that name a layer of the backbone, one or a list.
LAYER_KEYS = ("transfer.collage_layer", "transfer.content_layer", "transfer.style_layers",
              "transfer.hist_layers", "index.layer")


def _numbers(value: Any, name: str):
    """Each number in a setting, its nested lists and sections, with its dotted name."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, f"{name}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item, name)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield name, value


def _check_finite(cfg: dict[str, Any]) -> None:
    for section, values in cfg.items():
        for name, value in _numbers(values, section):
            if not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite number, got {value!r}")


def _check_ranges(cfg: dict[str, Any]) -> None:
    for name, (low, high) in BOUNDS.items():
        value = cfg
        for part in name.split("."):
            value = value[part]
        if value == "auto":
            continue
        if value < low or (high is not None and value > high):
            wanted = f"at least {low}" if high is None else f"between {low} and {high}"
            raise ConfigError(f"{name} must be {wanted}, got {value!r}")


def _check_schedules(schedules: dict[str, Any]) -> None:
    for name, schedule in schedules.items():
        where = f"transfer.schedules.{name}"
        if not isinstance(schedule, dict) or not {"scales", "iterations"} <= set(schedule) \
                or not set(schedule) <= {"scales", "iterations", "start", "optimiser"}:
            raise ConfigError(f"{where} needs scales and iterations "
                              "(and may name a start and an optimiser)")
        for key, known, default in (("start", STARTS, "collage"),
                                    ("optimiser", OPTIMISERS, "adam")):
            if schedule.get(key, default) not in known:
                raise ConfigError(f"{where}.{key} must be one of {', '.join(known)}, "
                                  f"got {schedule[key]!r}")
        scales, iterations = schedule["scales"], schedule["iterations"]
        if not isinstance(iterations, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in iterations):
            raise ConfigError(f"{where}.iterations must be a list of non-negative whole "
                              f"numbers, got {iterations!r}")
        if not isinstance(scales, list) or not all(
                isinstance(s, (int, float)) and not isinstance(s, bool) and 0 < s <= 1
                for s in scales):
            raise ConfigError(f"{where}.scales must be fractions of the size between 0 "
                              f"(excluded) and 1, got {scales!r}")
        if len(scales) != len(iterations) or not scales:
            raise ConfigError(f"{where} needs as many scales as iteration counts")
        if not any(iterations):
            raise ConfigError(f"{where} must take at least one step, got {iterations!r}")


def _check_layers(cfg: dict[str, Any]) -> None:
    known = layer_names(arch_of(cfg["backbone"]["name"]))
    relus = [name for name in known if name.startswith("relu")]
    for name in LAYER_KEYS:
        section, key = name.split(".")
        value = cfg[section][key]
        for layer in value if isinstance(value, list) else [value]:
            if layer not in known:
                raise ConfigError(f"{name}: unknown layer {layer!r} of "
                                  f"{cfg['backbone']['name']}; known: {', '.join(relus)}")


def _check_precisions(cfg: dict[str, Any]) -> None:
    for section in ("transfer", "index", "retrieval"):
        value = cfg[section]["precision"]
        if value not in PRECISIONS:
            raise ConfigError(f"{section}.precision must be one of {', '.join(PRECISIONS)}, "
                              f"got {value!r}")


def check_config(cfg: dict[str, Any]) -> None:
    """Raise ConfigError naming the first setting that cannot work."""
    _check_finite(cfg)
    _check_ranges(cfg)
    _check_schedules(cfg["transfer"]["schedules"])
    _check_layers(cfg)
    _check_precisions(cfg)
