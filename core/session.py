"""What every command sets up the same way: the device and the backbone from the config."""
from __future__ import annotations

from typing import Any

import torch

from core.backbone import Backbone, load_backbone
from core.device import pick_device


def backbone_from_config(cfg: dict[str, Any]) -> tuple[Backbone, torch.device]:
    device = pick_device(cfg["backbone"]["device"])
    b = cfg["backbone"]
    return load_backbone(b["name"], b["weights"], b["download"], device), device
