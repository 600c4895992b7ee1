"""The configuration: configs/default.toml, read once, with dotted overrides from the CLI."""
from __future__ import annotations

import copy
import json
import math
import tomllib
from pathlib import Path
from typing import Any

from core.config_checks import check_config
from core.errors import ConfigError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "configs" / "default.toml"
_cache: dict[Path, dict[str, Any]] = {}


def _read(path: Path) -> dict[str, Any]:
    if path not in _cache:
        try:
            _cache[path] = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} cannot be read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return _cache[path]


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def toml_value(value: Any) -> str:
    """A Python value as the TOML text an override takes: JSON would spell NaN and
    Infinity, which TOML reads as words, hiding the non-finite number behind a type error."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return json.dumps(value)


def apply_override(cfg: dict[str, Any], override: str) -> None:
    """Apply one `section.key=value` override in place; the key must exist."""
    key, sep, raw = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {override!r} is not of the form section.key=value")
    parts = key.strip().split(".")
    node = cfg
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            raise ConfigError(f"unknown config section {'.'.join(parts[:-1])!r} in {override!r}")
        node = node[part]
    if parts[-1] not in node:
        raise ConfigError(f"unknown config key {key.strip()!r}")
    node[parts[-1]] = _typed(key.strip(), node[parts[-1]], _parse_value(raw.strip()))


def _typed(name: str, old: Any, value: Any) -> Any:
    """`value` if it has the default's type (an int stands for a float; a number or
    "auto" for the keys in AUTO_OR_NUMBER)."""
    if name in AUTO_OR_NUMBER:
        if value == "auto" or _is_number(value):
            return value if value == "auto" else float(value)
        raise ConfigError(f'{name} must be a number or "auto", got {value!r}')
    if isinstance(old, float) and _is_number(value):
        value = float(value)
    if type(value) is not type(old):
        raise ConfigError(f"{name} must be {type(old).__name__}, got {value!r}")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Keys whose value is a number, or "auto" for a choice made per image pair.
AUTO_OR_NUMBER = {"transfer.strength"}
# Sections whose keys are the user's to add (a schedule of one's own).
OPEN_SECTIONS = {"transfer.schedules"}
def _merge(defaults: dict[str, Any], given: dict[str, Any], where: str = "") -> dict[str, Any]:
    """`given` over `defaults`: a key the file leaves out keeps its default, and a key the
    defaults do not know is an error (a typo would otherwise be silently ignored)."""
    merged = copy.deepcopy(defaults)
    for key, value in given.items():
        name = f"{where}{key}"
        if key not in defaults:
            if where.rstrip(".") not in OPEN_SECTIONS:
                raise ConfigError(f"unknown config key {name!r}")
            merged[key] = value
        elif isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"config key {name!r} must be a section")
            merged[key] = _merge(defaults[key], value, f"{name}.")
        else:
            merged[key] = _typed(name, defaults[key], value)
    return merged


def with_overrides(cfg: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of `cfg` with `section.key=value` overrides, checked as the CLI's are."""
    cfg = copy.deepcopy(cfg)
    for override in overrides:
        apply_override(cfg, override)
    check_config(cfg)
    return cfg


def load_config(path: Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """The configuration as a fresh dict: the default file, a user's file over it, then
    the overrides. Each file is parsed only once per process."""
    cfg = _read(DEFAULT_PATH)
    if path:
        cfg = _merge(cfg, _read(Path(path)))
    return with_overrides(cfg, overrides or [])
