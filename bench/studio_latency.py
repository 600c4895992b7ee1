"""How quickly the studio answers: upload, matches, the first preview (the collage) and
the painting, through its API as the page calls it.

    python bench/studio_latency.py [--index indexes/demo] [--size 512] [--steps 4]

The painting runs the fast schedule with --steps iterations per scale, so the figure that
matters (seconds from asking to paint to the first preview) comes without a whole painting.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "chelsea-cat.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "demo")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from core.config import load_config
    from studio.app import create_app
    from studio.state import open_studio

    results = Path(tempfile.mkdtemp()) / "results"
    steps = ", ".join([str(args.steps)] * 3)
    cfg = load_config(None, [f"transfer.schedules.fast.iterations=[{steps}]",
                             'transfer.schedule="fast"', f'studio.results="{results}"'])
    start = time.perf_counter()
    studio = open_studio(cfg, args.index, results)
    figures = {"start-up (network and index)": time.perf_counter() - start}
    with TestClient(create_app(studio)) as client:
        start = time.perf_counter()
        photo = client.post("/api/uploads", files={"file": ("p.jpg", PHOTO.read_bytes())}).json()
        figures["upload"] = time.perf_counter() - start
        start = time.perf_counter()
        found = client.post("/api/matches", json={"photo": photo["id"]}).json()["matches"]
        figures["12 matches"] = time.perf_counter() - start
        start = time.perf_counter()
        job = client.post("/api/jobs", json={"photo": photo["id"], "art": found[0]["id"],
                                             "size": args.size}).json()
        first = None
        while (state := client.get(f"/api/jobs/{job['id']}").json())["state"] not in (
                "done", "failed", "cancelled"):
            if first is None and state["preview"]:
                first = time.perf_counter() - start
            time.sleep(0.02)
        figures["first preview (the collage, shown at once)"] = first
        figures[f"painting, {3 * args.steps} steps, saved"] = time.perf_counter() - start
    print(f"studio on {studio.device}, index {args.index}")
    for name, seconds in figures.items():
        print(f"{name:40s} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
