"""Where an `artifier` command's wall time goes: the whole process under cProfile.

    python bench/profile_cli.py transfer photo.jpg --style art.jpg --device cuda -o out.png

Prints the wall time from before `import torch` to the end, then the functions with the
most cumulative and the most own time. On CUDA the kernels run asynchronously, so their
time shows where the host waits for them (`.item()`, copies, synchronize).
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time

START = time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=30, help="Functions listed per table.")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="The artifier arguments.")
    args = parser.parse_args()
    sys.argv = ["artifier", *args.command]
    profile = cProfile.Profile()
    profile.enable()
    try:
        from commands.cli import main as cli
        cli()
    except SystemExit as done:
        if done.code:
            raise
    finally:
        profile.disable()
        print(f"wall {time.perf_counter() - START:.2f} s: artifier {' '.join(args.command)}")
        for order in ("cumulative", "tottime"):
            pstats.Stats(profile).strip_dirs().sort_stats(order).print_stats(args.lines)


if __name__ == "__main__":
    main()
