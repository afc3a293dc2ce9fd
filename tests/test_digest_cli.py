"""`hearth digest` on the command line: a reader that goes away (`hearth digest | head`) ends
it quietly, and only network errors are called network errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.cli import main
from tests.test_cli import ROOT, hearth


class _GoneReader(io.StringIO):
    """Standard output whose reader went away after `room` characters (`| head`)."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room
        self.gone = False

    def write(self, text: str) -> int:
        if self.gone or self.tell() + len(text) > self.room:
            self.gone = True  # what did not fit stays buffered: every flush fails from now on
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)

    def flush(self) -> None:
        if self.gone:
            raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        raise io.UnsupportedOperation("not a file")


def test_hearth_digest_into_a_closed_pipe_stops_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hearth digest | head -1`: the reader leaving is no error ("network error" it said)."""
    assert hearth("run", stdin="hello everyone\n", cwd=tmp_path).returncode == 0
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdout", _GoneReader(room=40))
    assert main(["digest", "--period", "week"]) == 141
    assert capsys.readouterr().err == ""

    process = subprocess.Popen(  # a real pipe whose reader is gone before Hearth writes
        [sys.executable, "-m", "adapters.cli", "digest"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err.decode()) == (141, "")


def test_only_network_errors_are_called_network_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.csv"
    config = tmp_path / "hearth.toml"
    config.write_text(f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "h.db"}"\n')
    assert main(["faq", "import", str(missing), "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "network error" not in err
    assert err.startswith("hearth: error: ")
    assert "missing.csv" in err
