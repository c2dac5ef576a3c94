"""The `openai` backend (`vlmbench.models.openai_chat`), against a real HTTP server process.

`tests/fake_openai_server.py` is started once for the module; markers in a prompt choose how it answers
(see its docstring). The backend must:

- send OpenAI chat messages, images as base64 data URLs of the image's own bytes (else PNG);
- keep the batch's order whatever the concurrency and the latencies;
- retry 429 / 5xx / timeouts with backoff (honouring Retry-After), fail other 4xx at once, and turn a
  request that still fails - or a malformed 200 - into a failed Response for that sample alone;
- keep `reasoning_content` as a leading `<think>` block, and report usage and finish_reason.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from servers import closed_port_url, start_fake_openai

from vlmbench.extract import Status, get_extractor
from vlmbench.models import BackendUnavailable, GenerationParams, Request, get_backend
from vlmbench.models.openai_chat import OpenAIChatBackend
from vlmbench.records.record import validate_record
from vlmbench.runner import EvalConfig, evaluate
from vlmbench.schema import AnswerType, ImageRef, Sample

SERVER = Path(__file__).with_name("fake_openai_server.py")
PARAMS = GenerationParams(max_new_tokens=16, temperature=0.0, top_p=0.9, seed=7)
CHOICES = ["cat", "dog", "bird"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fake server's base URL (`http://127.0.0.1:PORT/v1`); the process is killed afterwards."""
    log = (tmp_path_factory.mktemp("fake_openai") / "stderr.log").open("w")
    process = subprocess.Popen([sys.executable, str(SERVER)], stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.kill()
        process.wait(timeout=10)
        log.close()


def backend(server: str, **args: Any) -> OpenAIChatBackend:
    return get_backend("openai", "fake-model", **{"base_url": server, "backoff": 0.01, "seed": 0, **args})


def request(prompt: str, images: list[ImageRef] | None = None, system: str | None = None) -> Request:
    sample = Sample(prompt, prompt, "dog", AnswerType.MULTIPLE_CHOICE, choices=CHOICES)
    return Request(prompt, system, prompt, images or [], PARAMS, sample)


def recorded(server: str, marker: str) -> list[dict[str, Any]]:
    """The requests the server received whose user text contains `marker`."""
    with urllib.request.urlopen(server.removesuffix("/v1") + "/requests", timeout=5) as reply:
        everything = json.loads(reply.read())
    return [r for r in everything if marker in json.dumps(r["body"]["messages"])]


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (5, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url_bytes(url: str, mime: str) -> bytes:
    prefix = f"data:{mime};base64,"
    assert url.startswith(prefix), url[:40]
    return base64.b64decode(url[len(prefix) :])


def test_the_request_is_an_openai_chat_completion_with_images_as_data_urls(
    server: str, tmp_path: Path
) -> None:
    png = png_bytes((255, 0, 0))
    jpeg_path = tmp_path / "green.jpg"
    Image.new("RGB", (4, 4), (0, 255, 0)).save(jpeg_path, format="JPEG")
    from_loader = ImageRef(loader=lambda: Image.new("RGB", (2, 6), (0, 0, 255)))
    images = [ImageRef(data=png), ImageRef(data=jpeg_path.read_bytes()), from_loader]
    [response] = backend(server, api_key="sk-test").generate(
        [request("[[answer=B]] images, please", images, system="Be brief.")]
    )
    assert response.error is None and response.text == "B"

    [sent] = recorded(server, "images, please")
    assert sent["path"] == "/v1/chat/completions" and sent["authorization"] == "Bearer sk-test"
    body = sent["body"]
    assert body["model"] == "fake-model"
    assert (body["max_tokens"], body["temperature"], body["top_p"], body["seed"]) == (16, 0.0, 0.9, 7)
    system, user = body["messages"]
    assert system == {"role": "system", "content": "Be brief."}
    assert user["role"] == "user"
    *parts, text = user["content"]
    assert text == {"type": "text", "text": "[[answer=B]] images, please"}
    assert [p["type"] for p in parts] == ["image_url"] * 3
    urls = [p["image_url"]["url"] for p in parts]
    assert data_url_bytes(urls[0], "image/png") == png  # the image's own bytes, untouched
    assert data_url_bytes(urls[1], "image/jpeg") == jpeg_path.read_bytes()
    decoded = Image.open(io.BytesIO(data_url_bytes(urls[2], "image/png")))  # no bytes: encoded as PNG
    assert decoded.size == (2, 6) and decoded.convert("RGB").getpixel((1, 1)) == (0, 0, 255)


def test_the_api_key_comes_from_the_environment_and_is_never_described(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    model = backend(server, concurrency=3, max_retries=2)
    assert model.api_key == "sk-from-env"
    assert model.describe() == {
        "backend": "openai",
        "model": "fake-model",
        "base_url": server,
        "concurrency": 3,
        "max_retries": 2,
    }
    assert "sk-from-env" not in json.dumps(model.describe())
    monkeypatch.delenv("OPENAI_API_KEY")
    assert backend(server).api_key == "EMPTY"


def test_a_batch_comes_back_in_request_order_whatever_the_latencies(server: str) -> None:
    delays = [0.15, 0.0, 0.1, 0.02, 0.12, 0.0, 0.05, 0.08]
    requests = [request(f"[[sleep{d}]] [[answer=item-{i}]] order test {i}") for i, d in enumerate(delays)]
    start = time.perf_counter()
    responses = backend(server, concurrency=4).generate(requests)
    elapsed = time.perf_counter() - start
    assert [r.text for r in responses] == [f"item-{i}" for i in range(len(delays))]
    assert all(r.error is None and r.seconds > 0 for r in responses)
    assert elapsed < sum(delays)  # requests overlapped (4 in flight)


def test_429_is_retried_until_it_succeeds(server: str) -> None:
    [response] = backend(server, max_retries=3).generate([request("[[429x2]] [[answer=C]] busy")])
    assert response.error is None and response.text == "C"
    assert len(recorded(server, "[[429x2]] [[answer=C]] busy")) == 3


def test_retry_after_is_honoured(server: str) -> None:
    prompt = "[[429x1]] [[retry-after=0.3]] [[answer=A]] polite"
    [response] = backend(server, backoff=0.001).generate([request(prompt)])
    assert response.error is None and response.text == "A"
    assert response.seconds >= 0.3  # the server's wait, not the (tiny) backoff; seconds include retries


def test_a_request_that_keeps_failing_fails_alone_with_its_reason(server: str) -> None:
    prompts = ["[[answer=A]] fine 1", "[[500]] broken", "[[answer=B]] fine 2", "[[sleep2]] slow"]
    model = backend(server, timeout=0.5, max_retries=1, concurrency=4)
    ok1, broken, ok2, slow = model.generate([request(p) for p in prompts])
    assert (ok1.text, ok2.text) == ("A", "B") and ok1.error is None and ok2.error is None
    assert broken.finish_reason == "error" and broken.text == ""
    assert "HTTP 500" in broken.error and model.url in broken.error
    assert len(recorded(server, "[[500]] broken")) == 2  # first try + one retry
    assert slow.finish_reason == "error" and "timeout" in slow.error and model.url in slow.error
    assert len(recorded(server, "[[sleep2]] slow")) == 2


def test_a_client_error_is_not_retried(server: str) -> None:
    [response] = backend(server, max_retries=3).generate([request("[[400]] bad request")])
    assert response.finish_reason == "error" and "HTTP 400" in response.error
    assert len(recorded(server, "[[400]] bad request")) == 1


def test_an_unreachable_server_is_a_failed_sample_naming_the_url() -> None:
    model = OpenAIChatBackend("m", base_url="http://127.0.0.1:9/v1", max_retries=1, backoff=0.001, timeout=1)
    [response] = model.generate([request("nobody home")])
    assert response.finish_reason == "error" and "connection error" in response.error
    assert "http://127.0.0.1:9/v1/chat/completions" in response.error


@pytest.mark.parametrize("marker", ["[[garbage]]", "[[nochoices]]"])
def test_a_malformed_200_is_retried_like_a_5xx_then_fails_alone(server: str, marker: str) -> None:
    """Cut JSON or an empty `choices` is what an overloaded server sends: worth another try."""
    [response] = backend(server, max_retries=2).generate([request(f"{marker} what is this")])
    assert response.finish_reason == "error" and response.error.startswith("malformed response")
    assert "gave up after 3 attempts" in response.error
    assert len(recorded(server, f"{marker} what is this")) == 3


def test_a_retry_after_of_a_day_is_capped(server: str) -> None:
    """A hostile or broken server asking to wait 86400 s gets `max_retry_after` seconds."""
    prompt = "[[429x1]] [[retry-after=86400]] [[answer=B]] come back tomorrow"
    start = time.perf_counter()
    [response] = backend(server, max_retry_after=0.2).generate([request(prompt)])
    assert response.error is None and response.text == "B"
    assert 0.2 <= time.perf_counter() - start < 5


def test_waits_count_against_the_sample_deadline(server: str) -> None:
    prompt = "[[429x9]] [[retry-after=0.5]] [[answer=B]] always busy"
    start = time.perf_counter()
    [response] = backend(server, max_retries=8, deadline=1.2).generate([request(prompt)])
    elapsed = time.perf_counter() - start
    assert (
        response.finish_reason == "error"
        and "HTTP 429" in response.error
        and "deadline 1.2s" in response.error
    )
    assert elapsed < 1.2 and len(recorded(server, prompt)) == 3  # tries at 0, 0.5 and 1.0 s; no wait past 1.2


def test_reasoning_content_is_kept_in_a_think_block_before_the_answer(server: str) -> None:
    req = request("[[reasoning]] [[answer=The answer is B.]] think first")
    [response] = backend(server).generate([req])
    assert response.text == "<think>Let me think.</think>The answer is B."
    extraction = get_extractor("choice")(response.text, req.sample)
    assert extraction.status is Status.OK and extraction.answer == "B"  # read after the </think>
    assert response.n_output_tokens == 3 + 4  # reasoning words + answer words: matches the text kept


def test_usage_and_finish_reason_are_reported(server: str) -> None:
    stop, cut = backend(server).generate(
        [request("[[answer=two-words]] count my five words"), request("[[length]] [[answer=A]] cut")]
    )
    # the fake server counts words: five in the prompt, one in the answer
    assert (stop.n_prompt_tokens, stop.n_output_tokens, stop.finish_reason) == (5, 1, "stop")
    assert not stop.truncated
    assert cut.finish_reason == "length" and cut.truncated and cut.text == "A"


def test_an_evaluation_runs_end_to_end_against_the_server(server: str, tmp_path: Path) -> None:
    config = EvalConfig(
        backend="openai",
        model="fake",
        model_args={"base_url": server, "backoff": 0.01},
        tasks="synth_geometry",
        synth={"n": 6},
        output_dir=tmp_path,
    )
    run_dir, record = evaluate(config)
    assert record["status"] == "done"
    assert record["model"]["backend_info"]["backend"] == "openai"
    task = record["tasks"]["synth_geometry"]
    assert task["status"] == "done" and task["n"] == 6 and task["n_failed"] == 0
    assert task["tokens_in"] > 0 and task["tokens_out"] == 6
    rows = [
        json.loads(line) for line in (run_dir / "samples" / "synth_geometry.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 6
    assert all(r["output"] == "A" and r["extracted"] is not None and r["error"] is None for r in rows)
    sent = [r for r in recorded(server, "") if r["body"]["model"] == "fake"]
    assert len(sent) == 6
    assert all(any(p["type"] == "image_url" for p in r["body"]["messages"][-1]["content"]) for r in sent)


# --- the server as a whole: what it serves, whether it answers ----------------------------------------


@pytest.fixture(scope="module")
def flaky_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Lists the model `fake` and fails 30% of prompts with HTTP 500 until POST /heal."""
    process, url = start_fake_openai(
        tmp_path_factory.mktemp("flaky"), "--models", "fake", "--fail-percent", "30"
    )
    try:
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


def test_the_probe_reports_what_the_server_lists_for_the_model(server: str, flaky_server: str) -> None:
    served = OpenAIChatBackend("fake", base_url=flaky_server).probe()
    assert served == {"id": "fake", "object": "model", "root": "/models/fake"}
    assert OpenAIChatBackend("other", base_url=flaky_server).probe() is None  # not listed
    assert backend(server).probe() is None  # no model list at all (404)


def test_a_broken_model_list_is_no_model_list(tmp_path: Path) -> None:
    """`transformers serve` offline answers GET /models with 500 while chat works: the run goes on, the
    model fingerprinted by its requested name."""
    process, url = start_fake_openai(tmp_path, "--models-error", "500")
    try:
        assert OpenAIChatBackend("fake", base_url=url, max_retries=1, backoff=0.001).probe() is None
    finally:
        process.kill()
        process.wait(timeout=10)


def test_a_server_that_never_answers_is_unavailable_at_once() -> None:
    model = OpenAIChatBackend("m", base_url=closed_port_url(), max_retries=1, backoff=0.001, timeout=1)
    start = time.perf_counter()
    with pytest.raises(BackendUnavailable, match=r"backend never answered: connection error to .*/models"):
        model.probe()
    assert time.perf_counter() - start < 5


def flaky_config(url: str, output_dir: Path, **changes: Any) -> EvalConfig:
    options: dict[str, Any] = {
        "backend": "openai",
        "model": "fake",
        "model_args": {"base_url": url, "backoff": 0.01, "max_retries": 1},
        "tasks": "synth_geometry",
        "synth": {"n": 20},
        "output_dir": output_dir,
    }
    return EvalConfig(**{**options, **changes})


def test_a_closed_port_is_a_failed_run_with_its_reason_and_no_score(tmp_path: Path) -> None:
    config = flaky_config(closed_port_url(), tmp_path)
    root, record = evaluate(config)
    assert record["status"] == "failed"
    assert record["failure"].startswith("backend never answered: connection error to http://127.0.0.1:")
    task = record["tasks"]["synth_geometry"]
    assert (task["status"], task["n_items"], task["n"], task["metrics"]) == ("failed", 20, 0, None)
    assert not (root / "samples").exists()  # nothing was sent, nothing recorded as an answer
    assert validate_record(record).model.fingerprint.served_id is None


def test_a_server_failing_30_percent_is_partial_and_reruns_retry_only_the_failed(
    flaky_server: str, tmp_path: Path
) -> None:
    from fake_openai_server import failing

    config = flaky_config(flaky_server, tmp_path)
    root, first = evaluate(config)
    rows = {r["id"]: r for r in map(json.loads, (root / "samples" / "synth_geometry.jsonl").open())}
    failed = {i for i, r in rows.items() if r["error"]}
    assert failed == {i for i, r in rows.items() if failing(r["prompt"], 30)} and 0 < len(failed) < 20
    task = first["tasks"]["synth_geometry"]
    assert (first["status"], task["status"], task["n_failed"]) == ("partial", "partial", len(failed))
    assert task["failures"] == {"HTTP 500": len(failed)}
    assert first["model"]["fingerprint"]["served_root"] == "/models/fake"
    good = {i: r for i, r in rows.items() if i not in failed}

    before = len(recorded(flaky_server, ""))
    again_root, again = evaluate(config)  # the server still fails the same prompts
    assert again_root == root and again["tasks"]["synth_geometry"]["n_failed"] == len(failed)
    assert len(recorded(flaky_server, "")) - before == 2 * len(failed)  # only those, each tried twice

    urllib.request.urlopen(urllib.request.Request(flaky_server.removesuffix("/v1") + "/heal", data=b"{}"))
    healed_root, healed = evaluate(config)
    assert healed_root == root and healed["status"] == "done"
    assert healed["tasks"]["synth_geometry"]["n_failed"] == 0
    final = {r["id"]: r for r in map(json.loads, (root / "samples" / "synth_geometry.jsonl").open())}
    assert {i: final[i] for i in good} == good  # the answered samples were kept as they were
    assert set(final) == set(rows)


def test_an_api_key_is_used_but_never_written_anywhere(server: str, tmp_path: Path) -> None:
    """The key reaches the server and nothing else: not the records, the store, the site, the run id."""
    from vlmbench.leaderboard.publish import publish
    from vlmbench.records.store import Store

    secret = "sk-test-0123456789abcdef"
    config = EvalConfig(
        backend="openai", model="fake", tasks="synth_geometry", synth={"n": 4}, output_dir=tmp_path / "runs",
        model_args={"base_url": server, "backoff": 0.01, "api_key": secret,
                    "headers": {"X-Api-Key": secret, "Accept": "application/json"}},
    )  # fmt: skip
    root, record = evaluate(config)
    assert record["status"] == "done"
    assert any(r["authorization"] == f"Bearer {secret}" for r in recorded(server, ""))  # it was used
    board = tmp_path / "b.yaml"
    task = '{task: synth_geometry, version: "1.0", metric: accuracy}'
    board.write_text(f"name: b\ntitle: B\ntasks:\n  - {task}\n")
    store = Store(tmp_path / "index.sqlite")
    store.add([tmp_path / "runs"])
    publish(board, store, tmp_path / "site")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) > 5 and not [p for p in written if secret.encode() in p.read_bytes()]
    assert record["model"]["args"] == {
        "base_url": server, "backoff": 0.01, "headers": {"Accept": "application/json"}
    }  # fmt: skip

    rotated = dataclasses.replace(config, model_args={**config.model_args, "api_key": "sk-rotated"})
    assert evaluate(rotated)[0] == root  # a new key resumes the same run


def test_an_image_over_the_decoding_cap_fails_its_sample_before_anything_is_sent(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 13000x13000 PNG of a few hundred KB would cost ~0.7 GB decoded and more re-encoded."""
    monkeypatch.setenv("VLMBENCH_MAX_IMAGE_PIXELS", "1000000")
    big = png_bytes((9, 9, 9), size=(1200, 1200))  # 1.44 MP against a 1 MP cap
    [response] = backend(server).generate([request("[[answer=A]] a bomb", [ImageRef(data=big)])])
    assert response.finish_reason == "error" and "decoding cap" in response.error
    assert recorded(server, "a bomb") == []


def test_max_image_side_sends_a_smaller_copy(server: str) -> None:
    big = png_bytes((200, 10, 10), size=(800, 400))
    backend(server, max_image_side=200).generate([request("[[answer=A]] shrink me", [ImageRef(data=big)])])
    [sent] = recorded(server, "shrink me")
    part = next(p for p in sent["body"]["messages"][-1]["content"] if p["type"] == "image_url")
    url = part["image_url"]["url"]
    assert Image.open(io.BytesIO(data_url_bytes(url, "image/png"))).size == (200, 100)
