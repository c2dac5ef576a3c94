"""Predictions files (`vlmbench.predictions.read_predictions`): hostile bytes are an error naming the
file and line, and the CLI exits 2 on them (the README's promise for bad input)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlmbench.cli import app
from vlmbench.errors import PredictionsError, VlmbenchError
from vlmbench.predictions import read_predictions


def test_predictions_are_read_by_id(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"id": "a", "prediction": "1"}\n\n{"id": 2, "prediction": null, "finish_reason": "length"}\n'
    )
    found = read_predictions(path)
    assert (found["a"].text, found["a"].line) == ("1", 1)
    assert (found["2"].text, found["2"].truncated, found["2"].line) == ("", True, 3)


def test_bytes_that_are_not_utf8_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": "a", "prediction": "1"}\n{"id": "b", "prediction": "\xff\xfe"}\n')
    with pytest.raises(PredictionsError) as err:
        read_predictions(path)
    assert str(err.value) == f"{path}:2: not valid UTF-8 (byte 0xff at column 28)"
    assert isinstance(err.value, VlmbenchError)


def test_a_latin1_predictions_file_exits_2_from_the_cli(tmp_path: Path, shared_data: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes('{"id": "test_human/0", "prediction": "café"}\n'.encode("latin-1"))
    result = CliRunner().invoke(app, ["score", "-t", "chartqa", "-d", str(shared_data), "-p", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:1: not valid UTF-8" in result.output.replace("\n", "")
