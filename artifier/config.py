"""The configuration: configs/default.toml, read once, with dotted overrides from the CLI."""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from artifier.errors import ConfigError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "configs" / "default.toml"
_cache: dict[Path, dict[str, Any]] = {}


def _read(path: Path) -> dict[str, Any]:
    if path not in _cache:
        try:
            _cache[path] = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return _cache[path]


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


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
    value = _parse_value(raw.strip())
    old = node[parts[-1]]
    if isinstance(old, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not type(old):
        raise ConfigError(
            f"{key.strip()} must be {type(old).__name__}, got {raw.strip()!r}")
    node[parts[-1]] = value


def load_config(path: Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """The configuration as a fresh dict; the file itself is parsed only once per process."""
    cfg = copy.deepcopy(_read(Path(path) if path else DEFAULT_PATH))
    for override in overrides or []:
        apply_override(cfg, override)
    return cfg
