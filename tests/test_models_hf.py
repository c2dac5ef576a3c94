"""The transformers backend on tiny random-weight models of real architectures, over real ChartQA and
ScienceQA items with images: batching, token counts, finish reasons, batch invariance, a whole run."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the hf backend needs torch: pip install 'vlmbench[hf]'")
pytest.importorskip("transformers", reason="the hf backend needs transformers: pip install 'vlmbench[hf]'")

from realdata import shared_data_dir

from vlmbench.data import load_samples
from vlmbench.errors import VlmbenchError
from vlmbench.models import GenerationParams, Request, get_backend
from vlmbench.models.hf import HFBackend, chat_messages
from vlmbench.models.tiny import ARCHS, make_tiny_model
from vlmbench.prompts import build_request
from vlmbench.registry import get_task
from vlmbench.runner import EvalConfig, evaluate

GREEDY = GenerationParams(max_new_tokens=8)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-models")
    return {arch: make_tiny_model(root / arch, arch=arch, seed=0) for arch in ARCHS}


@pytest.fixture(scope="module", params=ARCHS)
def backend(request: pytest.FixtureRequest, tiny_models: dict[str, Path]) -> HFBackend:
    return get_backend("hf", str(tiny_models[request.param]))  # type: ignore[return-value]


def _requests(params: GenerationParams = GREEDY) -> list[Request]:
    """4 ChartQA + 4 ScienceQA (image) items, each with one image."""
    out = []
    for name in ("chartqa", "scienceqa_img"):
        spec = get_task(name)
        for sample in load_samples(spec, shared_data_dir(), limit=4):
            out.append(build_request(spec, sample, spec.prompts.default, params))
    assert len(out) == 8 and all(r.images for r in out)
    return out


def test_generates_one_response_per_request_with_counts(backend: HFBackend) -> None:
    requests = _requests()
    responses = backend.generate(requests)
    assert len(responses) == len(requests)
    for response in responses:
        assert response.error is None
        assert isinstance(response.text, str)
        assert response.n_prompt_tokens > 16  # the prompt text plus the image's tokens
        assert 0 < response.n_output_tokens <= GREEDY.max_new_tokens
        assert response.seconds > 0
        if response.finish_reason == "length":
            assert response.n_output_tokens == GREEDY.max_new_tokens
    # one request alone gives the same response as inside the batch: order is kept
    alone = backend.generate([requests[5]])[0]
    assert alone.text == responses[5].text and alone.n_prompt_tokens == responses[5].n_prompt_tokens


def test_tiny_budget_without_eos_is_length(backend: HFBackend) -> None:
    responses = backend.generate(_requests(GenerationParams(max_new_tokens=2)))
    for response in responses:
        if response.n_output_tokens == 2 and response.finish_reason == "length":
            continue
        assert response.finish_reason == "stop"  # only an EOS may end a row early
    assert any(r.finish_reason == "length" for r in responses)


def test_greedy_results_do_not_depend_on_batch_size(backend: HFBackend) -> None:
    requests = _requests(GenerationParams(max_new_tokens=16))
    one = [backend.generate([r])[0] for r in requests]
    four = backend.generate(requests[:4]) + backend.generate(requests[4:])
    assert [r.text for r in one] == [r.text for r in four]
    assert [r.n_output_tokens for r in one] == [r.n_output_tokens for r in four]
    assert [r.n_prompt_tokens for r in one] == [r.n_prompt_tokens for r in four]


def test_sampling_is_seeded(backend: HFBackend) -> None:
    params = GenerationParams(max_new_tokens=8, temperature=1.0, seed=3)
    requests = _requests(params)[:3]
    assert [r.text for r in backend.generate(requests)] == [r.text for r in backend.generate(requests)]


def test_mixed_params_are_grouped_and_kept_in_order(backend: HFBackend) -> None:
    requests = _requests()
    short = GenerationParams(max_new_tokens=3)
    for request in requests[::2]:
        request.params = short
    responses = backend.generate(requests)
    assert len(responses) == len(requests)
    for request, response in zip(requests, responses, strict=True):
        assert response.n_output_tokens <= request.params.max_new_tokens
    assert [r.n_output_tokens for r in responses[::2]] != [r.n_output_tokens for r in responses[1::2]]


def test_eos_ends_a_row_with_stop(tiny_models: dict[str, Path]) -> None:
    """Bias the LM head towards EOS: the row stops at once, the EOS counts, nothing is decoded."""
    backend = HFBackend(str(tiny_models["llava"]))
    eos = min(backend.eos_ids)
    head = backend.model.get_output_embeddings()

    def force_eos(module, inputs, output):
        output[..., eos] += 1e4
        return output

    handle = head.register_forward_hook(force_eos)
    try:
        responses = backend.generate(_requests()[:2])
    finally:
        handle.remove()
    for response in responses:
        assert response.finish_reason == "stop"
        assert response.n_output_tokens == 1
        assert response.text == ""


def test_system_prompt_and_describe(backend: HFBackend) -> None:
    request = _requests()[0]
    request.system = "You are a careful assistant."
    messages = chat_messages(request)
    assert messages[0] == {"role": "system", "content": [{"type": "text", "text": request.system}]}
    assert messages[1]["content"][0] == {"type": "image"}
    (response,) = backend.generate([request])
    assert response.error is None and response.n_output_tokens > 0
    info = backend.describe()
    assert info["backend"] == "hf" and info["dtype"] == "float32" and info["device"] == "cpu"
    assert info["architecture"] and info["architecture"][0].endswith("ForConditionalGeneration")
    assert info["transformers"]


def test_missing_checkpoint_and_bad_dtype_are_clear_errors(tmp_path: Path, tiny_models) -> None:
    with pytest.raises(VlmbenchError):
        get_backend("hf", str(tmp_path / "no-such-model"))
    with pytest.raises(VlmbenchError, match="dtype"):
        get_backend("hf", str(tiny_models["llava"]), dtype="float8")


@pytest.mark.parametrize("arch", ARCHS)
def test_evaluate_end_to_end(arch: str, tiny_models: dict[str, Path], tmp_path: Path) -> None:
    config = EvalConfig(
        backend="hf",
        model=str(tiny_models[arch]),
        tasks="chartqa,scienceqa_img",
        data_dir=shared_data_dir(),
        limit=4,
        output_dir=tmp_path,
        batch_size=2,
    )
    root, record = evaluate(config)
    assert record["status"] == "done"
    assert record["model"]["backend_info"]["backend"] == "hf"
    fingerprint = record["model"]["fingerprint"]
    files = {f["path"] for f in fingerprint["files"]}
    assert fingerprint["kind"] == "local" and "config.json" in files
    assert sum(name.endswith(".safetensors") for name in files) == 1  # the weights, and what loads them
    assert any(name.startswith("tokenizer") for name in files)
    assert record["model"]["n_params"] == sum(
        p.numel() for p in get_backend("hf", config.model).model.parameters()
    )
    assert set(record["tasks"]) == {"chartqa", "scienceqa_img"}
    for name, task in record["tasks"].items():
        assert task["n"] == 4 and task["n_failed"] == 0
        assert task["tokens_in"] > 0 and task["tokens_out"] > 0
        rows = [json.loads(line) for line in (root / "samples" / f"{name}.jsonl").read_text().splitlines()]
        assert len(rows) == 4
        for row in rows:
            assert row["error"] is None and row["finish_reason"] in {"stop", "length"}
            assert row["output"] is not None and row["n_output_tokens"] > 0
            assert row["metrics"]["output_tokens"] == row["n_output_tokens"]
        efficiency = task["quality"]["efficiency"]  # the metrics over the tiny model's own records
        assert efficiency["output_tokens"]["mean"] == sum(r["n_output_tokens"] for r in rows) / 4
        assert efficiency["truncation_rate"]["mean"] == sum(r["truncated"] for r in rows) / 4
        for group in ("reasoning", "hacking"):  # every sample is either measured or counted unverifiable
            for name, entry in task["quality"][group].items():
                if isinstance(entry, dict) and "n_unverifiable" in entry:
                    assert entry["n"] + entry["n_unverifiable"] == 4, (group, name)
        assert efficiency["flops"] == 2 * record["model"]["n_params"] * (
            task["tokens_in"] + task["tokens_out"]
        )
    assert json.loads((root / "run.json").read_text())["status"] == "done"


def _copy_items(source: Path, dest: Path, n: int) -> list[dict]:
    """The first `n` items of a shared task folder with an image each of their own, copied beside them."""
    dest.mkdir(parents=True)
    by_image: dict[str, dict] = {}
    for line in (source / "items.jsonl").read_text().splitlines():
        item = json.loads(line)
        by_image.setdefault(item["image"], item)
    items = list(by_image.values())[:n]
    for item in items:
        (dest / item["image"]).parent.mkdir(parents=True, exist_ok=True)
        (dest / item["image"]).write_bytes((source / item["image"]).read_bytes())
    (dest / "items.jsonl").write_text("".join(json.dumps(item) + "\n" for item in items))
    return items


def test_a_missing_or_corrupt_image_fails_its_sample_and_the_run_goes_on(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    items = _copy_items(shared_data_dir() / "chartqa", data / "chartqa", 4)
    (data / "chartqa" / items[1]["image"]).unlink()
    (data / "chartqa" / items[2]["image"]).write_bytes(b"\x89PNG\r\n\x1a\n not an image at all")
    config = EvalConfig(
        backend="hf",
        model=str(tiny_models["llava"]),
        tasks="chartqa",
        data_dir=data,
        output_dir=tmp_path / "runs",
    )
    root, record = evaluate(config)
    task = record["tasks"]["chartqa"]
    assert task["n"] == 4 and task["n_failed"] == 2
    rows = {
        r["id"]: r for r in map(json.loads, (root / "samples" / "chartqa.jsonl").read_text().splitlines())
    }
    missing, corrupt = rows[items[1]["id"]], rows[items[2]["id"]]
    assert "image file not found" in missing["error"] and items[1]["image"] in missing["error"]
    assert "cannot decode image" in corrupt["error"] and items[2]["image"] in corrupt["error"]
    for good in (items[0], items[3]):
        assert rows[good["id"]]["error"] is None and rows[good["id"]]["n_output_tokens"] > 0


def test_a_prompt_longer_than_the_context_fails_alone_with_its_reason(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    spec = get_task("chartqa")
    samples = load_samples(spec, shared_data_dir(), limit=8)
    full = get_backend("hf", str(tiny_models["llava"]))
    lengths = [
        r.n_prompt_tokens for r in full.generate([build_request(spec, s, "direct", GREEDY) for s in samples])
    ]
    assert len(set(lengths)) > 1, "the fixture needs prompts of different lengths"
    limit = sorted(lengths)[len(lengths) // 2] + GREEDY.max_new_tokens  # the longer half does not fit
    config = EvalConfig(
        backend="hf",
        model=str(tiny_models["llava"]),
        model_args={"max_model_len": str(limit)},
        tasks="chartqa",
        data_dir=shared_data_dir(),
        limit=8,
        max_new_tokens=GREEDY.max_new_tokens,
        output_dir=tmp_path,
        batch_size=4,
    )
    root, record = evaluate(config)
    rows = [json.loads(line) for line in (root / "samples" / "chartqa.jsonl").read_text().splitlines()]
    too_long = {s.id for s, n in zip(samples, lengths, strict=True) if n + GREEDY.max_new_tokens > limit}
    assert too_long and len(too_long) < len(samples)
    assert {r["id"] for r in rows if r["error"]} == too_long
    for row in rows:
        if row["id"] in too_long:
            assert "exceeds the model's context" in row["error"] and row["finish_reason"] == "error"
        else:
            assert row["error"] is None
    assert record["tasks"]["chartqa"]["n_failed"] == len(too_long)


def _edit_one_tensor_in_place(folder: Path) -> str:
    """Add 1 to one weight tensor of the checkpoint's safetensors file, rewritten under the same name."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    path = next(folder.glob("*.safetensors"))
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    name = next(n for n, t in tensors.items() if t.is_floating_point() and t.numel() > 1)
    tensors[name] = tensors[name] + 1.0
    save_file(tensors, str(path), metadata=metadata)
    return name


def test_a_checkpoint_edited_in_place_is_evaluated_again_under_a_new_run(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    """The issue's stale-result path: retrain (here: edit one tensor) in the same folder and rerun the
    same command. The old run's samples must not be reused, and the new record names the new weights."""
    from vlmbench.records.fingerprint import local_fingerprint

    model = shutil.copytree(tiny_models["llava"], tmp_path / "model")
    config = EvalConfig(
        model=str(model), backend="hf", tasks="synth_chart", synth={"n": 4}, max_new_tokens=4,
        output_dir=tmp_path / "runs",
    )  # fmt: skip
    old_root, old = evaluate(config)
    old_files = {p: p.read_bytes() for p in old_root.rglob("*") if p.is_file()}
    _edit_one_tensor_in_place(model)

    notes: list[str] = []
    new_root, new = evaluate(config, notify=notes.append)

    assert new_root != old_root and new["status"] == "done"
    assert new["model"]["fingerprint"] == local_fingerprint(model).model_dump(mode="json")
    assert new["model"]["fingerprint"]["digest"] != old["model"]["fingerprint"]["digest"]
    assert {p: p.read_bytes() for p in old_root.rglob("*") if p.is_file()} == old_files
    assert len((new_root / "samples" / "synth_chart.jsonl").read_text().splitlines()) == 4  # all run anew
    assert any(n.startswith(f"model changed since run {old['run_id']}") for n in notes)
    with pytest.raises(VlmbenchError, match="--resume refused"):
        _edit_one_tensor_in_place(model)
        evaluate(dataclasses.replace(config, resume=True))


@pytest.fixture
def made_on(monkeypatch: pytest.MonkeyPatch, backend: HFBackend) -> dict[str, dict[str, str]]:
    """Which thread decoded the images and which ran the processor, by a batch's first request id."""
    from vlmbench.models import hf

    seen: dict[str, dict[str, str]] = {"images": {}, "inputs": {}}
    load, inputs = hf._load_images, backend._inputs

    def load_spy(requests):
        seen["images"][requests[0].id] = threading.current_thread().name
        return load(requests)

    def inputs_spy(requests, images):
        seen["inputs"][requests[0].id] = threading.current_thread().name
        return inputs(requests, images)

    monkeypatch.setattr(hf, "_load_images", load_spy)
    monkeypatch.setattr(backend, "_inputs", inputs_spy)
    return seen


def _answers(responses: list) -> list[tuple]:
    return [(r.text, r.n_prompt_tokens, r.n_output_tokens, r.finish_reason, r.error) for r in responses]


@pytest.mark.parametrize("mode", ["images", "all"])
def test_a_prefetched_batch_is_made_in_the_background_and_answers_the_same(
    backend: HFBackend, made_on: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setattr(backend, "prefetch_mode", mode)
    requests = _requests(GenerationParams(max_new_tokens=16))
    first, second = requests[:4], requests[4:]
    plain = _answers(backend.generate(first) + backend.generate(second))
    for seen in made_on.values():
        seen.clear()
    backend.prefetch(second)  # handed over before the first batch generates, as the runner does
    prefetched = _answers(backend.generate(first) + backend.generate(second))
    assert prefetched == plain
    in_background = {
        kind: {i for i, thread in seen.items() if thread != "MainThread"} for kind, seen in made_on.items()
    }
    assert in_background == {"images": {second[0].id}, "inputs": {second[0].id} if mode == "all" else set()}
    assert set(made_on["images"]) == set(made_on["inputs"]) == {first[0].id, second[0].id}


def test_prefetch_can_be_switched_off_and_a_bad_mode_is_refused(tiny_models: dict[str, Path]) -> None:
    backend = get_backend("hf", str(tiny_models["llava"]), prefetch="off")
    requests = _requests()[:2]
    backend.prefetch(requests)
    assert backend._prefetched is None
    assert _answers(backend.generate(requests)) == _answers(
        get_backend("hf", str(tiny_models["llava"]), prefetch="all").generate(requests)
    )
    with pytest.raises(VlmbenchError, match="prefetch"):
        get_backend("hf", str(tiny_models["llava"]), prefetch="sometimes")


@pytest.mark.parametrize("mode", ["images", "all"])
def test_a_bad_image_fails_only_its_sample_with_prefetch_as_without(
    tiny_models: dict[str, Path], tmp_path: Path, mode: str
) -> None:
    """The runner's per-batch fallback (`_generate`): a batch that raises is retried one by one. With
    prefetch, a broken image in the batch being generated and one in the batch being prefetched each
    fail their own sample only, with the same reason."""
    from vlmbench.runner import _generate

    items = _copy_items(shared_data_dir() / "chartqa", tmp_path / "chartqa", 8)
    (tmp_path / "chartqa" / items[1]["image"]).write_bytes(b"\x89PNG\r\n\x1a\n not an image at all")
    (tmp_path / "chartqa" / items[6]["image"]).unlink()
    spec = get_task("chartqa")
    samples = load_samples(spec, tmp_path, limit=8)
    backend = get_backend("hf", str(tiny_models["llava"]), prefetch=mode)

    def batches() -> tuple[list[Request], list[Request]]:
        requests = [build_request(spec, s, "direct", GREEDY) for s in samples]
        return requests[:4], requests[4:]

    first, second = batches()
    plain = _answers(_generate(backend, first) + _generate(backend, second))
    first, second = batches()
    backend.prefetch(second)
    prefetched = _answers(_generate(backend, first) + _generate(backend, second))
    assert prefetched == plain
    errors = [answer[-1] for answer in prefetched]
    assert "cannot decode image" in errors[1] and "image file not found" in errors[6]
    assert [e is None for e in errors] == [True, False, True, True, True, True, False, True]


@pytest.mark.parametrize("mode", ["images", "all"])
def test_a_prefetched_prompt_over_the_context_fails_alone(tiny_models: dict[str, Path], mode: str) -> None:
    from vlmbench.runner import _generate

    spec = get_task("chartqa")
    requests = [
        build_request(spec, s, "direct", GREEDY) for s in load_samples(spec, shared_data_dir(), limit=8)
    ]
    lengths = [r.n_prompt_tokens for r in get_backend("hf", str(tiny_models["llava"])).generate(requests)]
    assert len(set(lengths)) > 1, "the fixture needs prompts of different lengths"
    limit = sorted(lengths)[len(lengths) // 2] + GREEDY.max_new_tokens
    backend = get_backend("hf", str(tiny_models["llava"]), max_model_len=str(limit), prefetch=mode)
    backend.prefetch(requests[4:])
    responses = _generate(backend, requests[:4]) + _generate(backend, requests[4:])
    for n, response in zip(lengths, responses, strict=True):
        if n + GREEDY.max_new_tokens > limit:
            assert "exceeds the model's context" in response.error and response.finish_reason == "error"
        else:
            assert response.error is None and response.n_prompt_tokens == n
