"""User mistakes are one line before any work, and what the CLI prints reads well in a log."""
import subprocess
import sys
from pathlib import Path

from core.config import load_config
from tests.cli import artifier, assert_one_line_error


def test_bad_options_are_one_line(small_index, art_dir, tmp_path, photo_path, painting_path):
    index_dir = small_index
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    assert_one_line_error(artifier("index", "build", art_dir, "--index", a_file), "not a folder")
    assert_one_line_error(artifier("retrieve", photo_path, "--index", a_file), "not a folder")
    assert_one_line_error(artifier("retrieve", photo_path, "--index", index_dir,
                                   "--set", "retrieval.k=0"), "retrieval.k")
    assert_one_line_error(artifier("retrieve", photo_path, "--index", index_dir,
                                   "--device", "meta"), "meta")
    result = artifier("transfer", photo_path, "--style", painting_path, "--size", "100000")
    assert_one_line_error(result, "--size 100000", "memory")
    for strength, words in (("banana", "--strength"), ("1.5", "between 0 and 1")):
        assert_one_line_error(artifier("transfer", photo_path, "--style", painting_path,
                                       "--strength", strength), words)
    assert load_config(overrides=['transfer.strength="auto"'])["transfer"]["strength"] == "auto"
    assert load_config(overrides=["transfer.strength=1"])["transfer"]["strength"] == 1.0
    partial = tmp_path / "partial.toml"
    partial.write_text("[retrieval]\nk = 16\n")
    assert load_config(partial)["transfer"] == load_config()["transfer"]
    assert load_config(partial)["retrieval"]["k"] == 16
    assert load_config(Path("/dev/null")) == load_config()
    typo = tmp_path / "typo.toml"
    typo.write_text("[retrieval]\nkk = 16\n")
    assert_one_line_error(artifier("retrieve", photo_path, "--index", index_dir,
                                   "--config", typo), "retrieval.kk")


def test_output_is_checked_before_painting(tmp_path, photo_path, painting_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    for out, words in ((tmp_path, "is a directory"), (plain / "x.png", "not a directory"),
                       (Path("/proc/x.png"), "cannot write")):
        result = artifier("transfer", photo_path, "--style", painting_path, "-o", out,
                          "--size", "96")
        assert_one_line_error(result, words)
    assert_one_line_error(artifier("transfer", tmp_path, "--style", painting_path),
                          "a batch paints each photo with its own --top matches")
    assert_one_line_error(artifier("retrieve", photo_path, "--sheet", tmp_path), "is a directory")


def test_progress_is_plain_lines_when_not_a_terminal(tmp_path, photo_path, painting_path):
    result = artifier("transfer", photo_path, "--style", painting_path, "-o", tmp_path / "r.png",
                      "--size", "96", "--schedule", "fast",
                      "--set", "transfer.schedules.fast.iterations=[3, 2, 1]")
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stderr and "━" not in result.stderr
    lines = result.stderr.strip().splitlines()
    last = [line for line in lines if line.startswith("painting")][-1]
    assert last.startswith("painting 6/6") and "content" in last, result.stderr
    assert lines[-1].startswith("strength") and "(auto)" in lines[-1]  # what auto chose


def test_help_does_not_import_torch():
    code = "import sys, commands.cli; print('torch' in sys.modules, 'faiss' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"], out.stderr
