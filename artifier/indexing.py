"""Building and checking an index from Python, as `artifier index build` and `verify` do."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from core.config import load_config, toml_value, with_overrides
from core.errors import ConfigError
from core.session import backbone_from_config
from index_build.build import BuildReport


def build_index(source: str | Path, index: str | Path, engine: str = "local",
                config: Optional[str | Path | dict[str, Any]] = None,
                address: Optional[str] = None) -> BuildReport:
    """Build, resume, grow or repair the index of a collection (a folder, parquet shards or
    the ArtGAN tree); returns the report the command line prints.

    >>> artifier.build_index("../shared/data/art", "indexes/art").counts  # doctest: +SKIP
    """
    cfg = config if isinstance(config, dict) else load_config(config)
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine must be local or ray, got {engine!r}")
    if address and engine != "ray":
        raise ConfigError("--address names a Ray cluster: use it with --engine ray")
    source, index = Path(source), Path(index)
    if engine == "ray":
        from index_build.ray_engine import build_on_ray, require_ray

        require_ray()
        # The actors run the network; here it only names what the index is bound to.
        on_cpu = with_overrides(cfg, [f"backbone.device={toml_value('cpu')}"])
        return build_on_ray(source, index, cfg, backbone_from_config(on_cpu)[0], address)
    from index_build.build import build_index as build

    net, device = backbone_from_config(cfg)
    return build(source, index, cfg, net, device)


def verify_index(index: str | Path) -> list[str]:
    """Every problem of the index, each naming its file; [] for a sound index."""
    from index_build.verify import verify_index as verify

    return [str(problem) for problem in verify(Path(index))]
