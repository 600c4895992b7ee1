import pytest

from artifier.config import load_config
from artifier.errors import ConfigError


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
