"""Transcript tests: each tests/transcripts/NAME.cmd runs through the same entry point as
``armdbg --batch -x NAME.cmd`` and its combined stdout+stderr must equal NAME.out exactly.

Directives on the first lines of a .cmd file (comments, so armdbg ignores them):
  # args: --keep-going ...    extra command-line arguments (before -x)
  # exit: N                   expected exit status (default 0)
``@FIXTURES@`` in a .cmd file is replaced by the path of tests/fixtures.
Set UPDATE_TRANSCRIPTS=1 to rewrite the .out files after reviewing a change.
"""

from __future__ import annotations

import io
import os
import shlex
from pathlib import Path

import pytest

from armdbg.cli import main

HERE = Path(__file__).parent / "transcripts"
FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(HERE.glob("*.cmd"))


class _Combined(io.StringIO):
    def isatty(self) -> bool:
        return False


def run_transcript(cmd: Path, tmp_path: Path) -> tuple[str, int, int]:
    text = cmd.read_text().replace("@FIXTURES@", str(FIXTURES))
    args: list[str] = []
    expected_exit = 0
    for line in text.splitlines():
        if line.startswith("# args:"):
            args += shlex.split(line[len("# args:"):])
        elif line.startswith("# exit:"):
            expected_exit = int(line[len("# exit:"):])
    local = tmp_path / cmd.name
    local.write_text(text)
    buffer = _Combined()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        status = main(["--batch", "--nx", "--no-color", *args, "-x", cmd.name],
                      stdout=buffer, stderr=buffer)
    finally:
        os.chdir(cwd)
    return buffer.getvalue(), status, expected_exit


@pytest.mark.parametrize("cmd", CASES, ids=[c.stem for c in CASES])
def test_transcript(cmd: Path, tmp_path: Path) -> None:
    output, status, expected_exit = run_transcript(cmd, tmp_path)
    expected_file = cmd.with_suffix(".out")
    if os.environ.get("UPDATE_TRANSCRIPTS"):
        expected_file.write_text(output)
    assert output == expected_file.read_text()
    assert status == expected_exit
