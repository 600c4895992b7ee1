import re

import pytest

from core.config import load_config
from core.errors import ConfigError


def test_defaults_and_overrides():
    cfg = load_config(overrides=["transfer.size=128", "transfer.style_weight=3",
                                 'backbone.name="vgg19-caffe-q8"',
                                 "transfer.schedules.fast.iterations=[1, 2, 3]"])
    assert cfg["transfer"]["size"] == 128
    assert cfg["transfer"]["style_weight"] == 3.0
    assert cfg["backbone"]["name"] == "vgg19-caffe-q8"
    assert cfg["transfer"]["schedules"]["fast"]["iterations"] == [1, 2, 3]
    assert load_config()["transfer"]["size"] == 512, "overrides must not leak into the cache"


@pytest.mark.parametrize("override, message", [
    ("transfer.nope=1", "unknown config key"),
    ("nope.size=1", "unknown config section"),
    ("transfer.size=big", "must be int"),
    ("transfer.size", "section.key=value"),
])
def test_bad_overrides(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


@pytest.mark.parametrize("override, message", [
    ("transfer.strength=nan", "transfer.strength must be a finite number"),
    ("transfer.learning_rate=nan", "transfer.learning_rate must be a finite number"),
    ("transfer.learning_rate=inf", "transfer.learning_rate must be a finite number"),
    ("transfer.style_layer_weights=[1.0, nan, 1.0, 1.0]", "style_layer_weights"),
    ("transfer.schedules.fast.iterations=[-5, 5, 3]", "non-negative whole numbers"),
    ("transfer.schedules.fast.iterations=[0, 0, 0]", "at least one step"),
    ('transfer.schedules.fast.iterations=["x", 5, 3]', "non-negative whole numbers"),
    ("transfer.schedules.fast.iterations=[1.5, 5, 3]", "non-negative whole numbers"),
    ("transfer.schedules.fast.scales=[0, 0.5, 1.0]", "between 0 (excluded) and 1"),
    ("transfer.schedules.fast.scales=[0.25, 0.5, 2.0]", "between 0 (excluded) and 1"),
    ("transfer.schedules.fast.scales=[0.5, 1.0]", "as many scales as iteration counts"),
    ('transfer.content_layer="bogus"', "unknown layer 'bogus'"),
    ('transfer.content_layer="relu9_9"', "known: relu1_1"),
    ('transfer.style_layers=["relu4_1", "relu3_9"]', "unknown layer 'relu3_9'"),
    ('index.layer="relu5_4x"', "unknown layer"),
])
def test_settings_that_cannot_work_are_refused(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(overrides=[override])


def test_a_config_file_is_checked_as_overrides_are(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[transfer]\nlearning_rate = nan\n")
    with pytest.raises(ConfigError, match="finite"):
        load_config(bad)
    vgg16 = ['backbone.name="vgg16-torchvision"', 'index.layer="relu5_4"']
    with pytest.raises(ConfigError, match="unknown layer 'relu5_4'"):
        load_config(overrides=vgg16)
