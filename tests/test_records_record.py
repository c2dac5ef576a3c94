"""The run record as one typed model (`vlmbench.records.record`) and its shipped JSON Schema: every record a
run writes validates against both, and records that break the contract are refused before they land."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from vlmbench.errors import DataError
from vlmbench.records.protocol import protocol_hash
from vlmbench.records.record import SCHEMA_FILE, RecordVersionError, schema_text, validate_record
from vlmbench.records.rundir import RunStore
from vlmbench.runner import EvalConfig, evaluate


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A real record: the random baseline on two procedural tasks."""
    out = tmp_path_factory.mktemp("runs")
    _, data = evaluate(EvalConfig(tasks="synth_chart,synth_geometry", synth={"n": 6}, output_dir=out))
    return data


def test_the_shipped_schema_is_the_one_the_model_generates() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "run_record.schema.json is stale: python -m vlmbench.records.record"
    )


def test_a_written_record_validates_against_the_model_and_the_shipped_schema(record: dict[str, Any]) -> None:
    typed = validate_record(record)
    assert typed.status == "done" and typed.model.fingerprint.kind == "baseline"
    jsonschema.validate(record, json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def test_the_schema_refuses_what_the_model_refuses(record: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    bad = copy.deepcopy(record)
    bad["tasks"]["synth_chart"]["status"] = "finished"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(ValidationError):
        validate_record(bad)


def _broken(record: dict[str, Any], change: Any) -> dict[str, Any]:
    data = copy.deepcopy(record)
    change(data)
    return data


def _rehash(task: dict[str, Any]) -> None:
    task["protocol_hash"] = protocol_hash(task["protocol"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(surprise=1), "Extra inputs are not permitted"),
        (lambda r: r["model"].pop("fingerprint"), "Field required"),
        (lambda r: r["model"]["fingerprint"].update(seed=9), "digest does not match"),
        (lambda r: r["tasks"]["synth_chart"].update(n_failed=2), "failures count 0"),
        (
            lambda r: r["tasks"]["synth_chart"].update(n_failed=2, failures={"timeout": 2}),
            "a done task has no failed samples",
        ),
        (lambda r: r["tasks"]["synth_chart"].update(status="failed"), "a failed task has no score"),
        (lambda r: r["tasks"]["synth_chart"].update(metrics=None), "needs metric and metrics"),
        (lambda r: r["tasks"]["synth_chart"].update(n=5), "has a row for each"),
        (lambda r: r["tasks"]["synth_chart"]["metrics"].update(official_ci95=[0.9, 1.0]), "does not hold"),
        (lambda r: r["tasks"]["synth_chart"]["protocol"].update(n=7), "does not match its protocol_hash"),
        (
            lambda r: (
                r["tasks"]["synth_chart"]["protocol"].update(task="x"),
                _rehash(r["tasks"]["synth_chart"]),
            ),
            "protocol names task 'x'",
        ),
        (lambda r: r.update(status="finished"), "Input should be"),
        (lambda r: r["model"]["args"].update(api_key="sk-x"), "model.args holds secrets"),
        (lambda r: r["config"]["model_args"].update(token="hf_x"), "config.model_args holds secrets"),
    ],
)
def test_a_record_that_breaks_its_contract_is_refused(
    record: dict[str, Any], change: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_record(_broken(record, change))


def test_a_record_of_another_version_says_why_it_is_not_read(record: dict[str, Any]) -> None:
    old = _broken(record, lambda r: r.update(record_version="1"))
    with pytest.raises(RecordVersionError, match=r"record version 1 .* carry no model fingerprint"):
        validate_record(old)


def test_an_invalid_record_is_never_written_and_names_the_field(
    record: dict[str, Any], tmp_path: Path
) -> None:
    store = RunStore(tmp_path / "run")
    bad = _broken(record, lambda r: r["tasks"]["synth_chart"].update(n_failed=-1))
    with pytest.raises(DataError, match=r"run\.json: invalid run record: tasks\.synth_chart\.n_failed"):
        store.write_run(bad)
    assert not (tmp_path / "run" / "run.json").exists()
    store.write_run(record)
    (tmp_path / "run" / "run.json").write_text(json.dumps(_broken(record, lambda r: r.pop("config_id"))))
    with pytest.raises(DataError, match="config_id: Field required"):
        store.read_run()
