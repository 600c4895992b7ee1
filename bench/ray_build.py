"""Index build on Ray against the local build, in one run, on a slice of the shared art.

The same slice is built three times into fresh indexes: the local engine (the reference:
one process, torch on every CPU, `index.workers` decoding processes), then `--engine ray`
with a pool of 1 and of 2 actors (one CPU and one torch thread each) on a local Ray.
Rows: artworks per second of the feature stage (actor start-up included: a build pays
it), FAISS training and adding (on Ray: tasks by shards, then the on-disk merge), the
whole build, and the peak resident memory of each process that ran the network.

    python bench/ray_build.py [--every 17]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ART = ROOT.parent / "shared" / "data" / "art"


def _row(name: str, report, seconds: float, peaks: list[float]) -> str:
    rate = report.extracted / report.feature_seconds
    return (f"| {name} | {report.extracted} | {report.feature_seconds:.1f} | {rate:.2f} | "
            f"{report.train_seconds:.1f} | {report.add_seconds:.1f} | {seconds:.1f} | "
            f"{', '.join(f'{mb:,.0f}' for mb in peaks)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=17, help="Index every N-th artwork.")
    args = parser.parse_args()

    import ray

    from core.config import load_config
    from core.session import backbone_from_config
    from index_build.build import build_index
    from index_build.ray_engine import build_on_ray
    from index_build.subset import make_subset

    work = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    art = work / "art"
    count = make_subset(ART, art, args.every)
    cfg = load_config(overrides=["backbone.device=\"cpu\""])
    net, device = backbone_from_config(cfg)
    print(f"{count} artworks (every {args.every}th shared one) at {cfg['index']['image_size']} px, "
          f"{os.cpu_count()} CPUs, batch {cfg['index']['batch_size']}")
    print("| engine | artworks | features s | artworks/s | train s | add s | build s | "
          "peak RSS per worker, MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    start = time.perf_counter()
    report = build_index(art, work / "local", cfg, net, device)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(_row(f"local ({cfg['index']['workers']} decoder)", report,
               time.perf_counter() - start, [peak]), flush=True)

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")
    for workers in (1, 2):
        ray_cfg = load_config(overrides=[f"index.ray_workers={workers}"])
        start = time.perf_counter()
        report = build_on_ray(art, work / f"ray-{workers}", ray_cfg, net)
        print(_row(f"ray, {workers} worker{'s' * (workers > 1)}", report,
                   time.perf_counter() - start, report.worker_peak_mb), flush=True)
    ray.shutdown()
    print(f"(indexes left in {work})")


if __name__ == "__main__":
    main()
