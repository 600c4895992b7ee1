import torch

from core.images import fit_blocks, load_image, to_tensor
from transfer.decoder import LATTICE, cached_decoder, decode
from transfer.denoise import box_mean
from transfer.lattice import even_lattice, poisson_rebuild
from transfer.targets import features


def phase_spread(image: torch.Tensor) -> float:
    """The largest phase's mean jump modulo 8 over the mean of the phases, rows and
    columns."""
    x = image[0]
    spreads = []
    for jumps in ((x[:, :, 1:] - x[:, :, :-1]).abs().mean((0, 1)),
                  (x[:, 1:] - x[:, :-1]).abs().mean((0, 2))):
        phases = torch.stack([jumps[p::8].mean() for p in range(8)])
        spreads.append(float(phases.max() / phases.mean()))
    return max(spreads)


def test_an_image_is_rebuilt_from_its_own_differences():
    x = torch.rand(3, 37, 52, generator=torch.Generator().manual_seed(0))
    dx, dy = x[:, :, 1:] - x[:, :, :-1], x[:, 1:] - x[:, :-1]
    assert torch.allclose(poisson_rebuild(dx, dy), x - x.mean((1, 2), keepdim=True), atol=1e-4)


def test_a_lattice_is_evened_and_what_is_coarser_kept(photo_path):
    photo = to_tensor(fit_blocks(load_image(photo_path), 128, 16))[0] * 0.8 + 0.1
    # The decoder's kind of trace: the jumps at some phases larger, at others smaller.
    gains = torch.tensor([1.0, 1.3, 0.8, 1.0, 0.9, 1.4, 0.8, 1.0])
    dx, dy = photo[:, :, 1:] - photo[:, :, :-1], photo[:, 1:] - photo[:, :-1]
    latticed = (poisson_rebuild(dx * gains[torch.arange(dx.shape[2]) % 8],
                                dy * gains[torch.arange(dy.shape[1]) % 8][:, None])
                + photo.mean((1, 2), keepdim=True))[None]
    photo = photo[None]
    assert phase_spread(latticed) > 1.3 > phase_spread(photo) + 0.15
    evened = even_lattice(latticed, 8)
    assert phase_spread(evened) < phase_spread(photo) + 0.03
    # The fine texture comes back to the photo's; the coarse stays as it was.
    fine = [x - box_mean(box_mean(x, 4), 4) for x in (evened, latticed, photo)]
    assert (fine[0] - fine[2]).abs().mean() < 0.6 * (fine[1] - fine[2]).abs().mean()
    coarse = [box_mean(box_mean(x, 8), 8) for x in (evened, latticed)]
    assert (coarse[0] - coarse[1]).abs().max() < 0.01


def test_the_decoders_lattice_is_evened_and_little_else_changes(backbone, photo_path):
    photo = to_tensor(fit_blocks(load_image(photo_path), 160, 16))
    decoded = decode(cached_decoder("cpu"), features(backbone, photo, {"relu4_1"}, 16)["relu4_1"])
    evened = even_lattice(decoded, LATTICE)
    assert phase_spread(decoded) > 1.3
    assert phase_spread(evened) < 1.1
    assert (evened - decoded).abs().mean() < 0.01
