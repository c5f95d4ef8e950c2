"""The README's tour is tests/transcripts/readme_tour.cmd: same commands, same order,
and every output line it shows is in the transcript's checked output."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "(armdbg) "


def tour_blocks() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    tour = text.split("## A tour", 1)[1].split("\n## ", 1)[0]
    blocks = tour.split("```")[1::2]
    return [block.strip("\n").splitlines() for block in blocks]


def test_readme_tour_runs_the_transcript_commands() -> None:
    shown = [line[len(PROMPT):] for block in tour_blocks() for line in block
             if line.startswith(PROMPT)]
    script = [line for line in (ROOT / "tests/transcripts/readme_tour.cmd").read_text()
              .splitlines() if line.strip() and not line.startswith("#")]
    assert shown == script


def test_readme_tour_output_is_real() -> None:
    output = (ROOT / "tests/transcripts/readme_tour.out").read_text().splitlines()
    for block in tour_blocks():
        for line in block:
            if line.startswith(PROMPT) or line.strip() in ("...", "") or \
                    line.startswith("  ...") or line.startswith("   ..."):
                continue
            assert line in output, line
