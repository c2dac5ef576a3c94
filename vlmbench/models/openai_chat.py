"""The `openai` backend: any OpenAI-compatible chat-completions server (vLLM, SGLang, LMDeploy, hosted APIs).

Standard library only (urllib, json, threads), so it works in the lean core install.

- Images travel as base64 data URLs: an image's own PNG / JPEG bytes when it has them, else the decoded
  image re-encoded as PNG.
- A batch is sent with bounded concurrency (`concurrency` requests in flight); responses come back in
  request order.
- HTTP 429, 5xx, timeouts, connection errors and a 200 whose body is not a chat completion (cut JSON,
  empty `choices`) are retried with exponential backoff (`backoff * 2**attempt` seconds, or the
  server's numeric `Retry-After`, capped at `max_retry_after` = 60 s: a server asking for a day gets a
  minute), at most `max_retries` times and within the sample's `deadline` (600 s for all its attempts
  and waits together); any other 4xx fails at once. A request that still fails becomes
  `Response.failed(reason)` for that sample alone: `generate` never raises for one bad sample.
- Before any sample, `probe()` asks the server's `GET /models` what it serves under the model's name
  (its id and, on vLLM, the `root` it loaded); the run record fingerprints the model by it. A server that
  cannot be reached (after the same retries) or refuses the key makes the run fail at once
  (`BackendUnavailable`); one without a working model list (404, 500) is fingerprinted by the
  requested name alone.
- Reasoning: servers that split a reasoning model's thoughts into `message.reasoning_content` (vLLM and
  SGLang reasoning parsers, DeepSeek's API) have them put back in front of the answer as
  `<think>{reasoning}</think>{content}`. The full output is recorded as the model wrote it, the extractor
  strips the `<think>` block before reading the answer, and the output token count (which includes the
  reasoning) matches the recorded text.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vlmbench.models.base import BackendUnavailable, Request, Response
from vlmbench.schema import ImageRef, Sample

RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))


class _Retryable(Exception):
    """A failure worth another try; `wait` is the server's Retry-After in seconds, if it gave one."""

    def __init__(self, reason: str, wait: float | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.status = status  # the HTTP status when the server answered (429, 5xx)


class _Fatal(Exception):
    """A failure that another try would not fix (4xx other than 429, a malformed answer)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


def image_data_url(image: ImageRef, max_side: int | None = None) -> str:
    """`data:image/...;base64,...` for one image: its own PNG / JPEG bytes when they fit (the header is
    checked against the decoding cap before anything is decoded), else a PNG of the image scaled down
    to `max_side` pixels on its longer side (`--model-args max_image_side=N`; default: as it is)."""
    data, mime = image.encoded(max_side=max_side)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def openai_messages(request: Request, max_side: int | None = None) -> list[dict[str, Any]]:
    """`Request.messages()` with each image placeholder replaced by an `image_url` part."""
    messages = request.messages()
    for message in messages:
        content = message["content"]
        if not isinstance(content, list):
            continue
        message["content"] = [
            {
                "type": "image_url",
                "image_url": {"url": image_data_url(request.images[part["index"]], max_side)},
            }
            if part.get("type") == "image"
            else part
            for part in content
        ]
    return messages


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


def parse_completion(body: bytes) -> Response:
    """A Response from a chat-completion body; raises `_Retryable("malformed response: ...")` otherwise
    (a body cut short or an empty `choices` is what an overloaded server sends: worth another try)."""
    try:
        payload = json.loads(body)
        choice = payload["choices"][0]
        message = choice["message"]
        if not isinstance(message, dict):
            raise TypeError(f"message is {type(message).__name__}")
    except (ValueError, KeyError, IndexError, TypeError) as err:
        snippet = body[:200].decode("utf-8", "replace")
        reason = f"malformed response: {type(err).__name__}: {err}; body starts {snippet!r}"
        raise _Retryable(reason) from err
    text = message.get("content") or ""
    reasoning = message.get("reasoning_content")
    if reasoning:
        text = f"<think>{reasoning}</think>{text}"
    usage = payload.get("usage") or {}
    return Response(
        text=text,
        n_prompt_tokens=int(usage.get("prompt_tokens") or 0),
        n_output_tokens=int(usage.get("completion_tokens") or 0),
        finish_reason=choice.get("finish_reason") or "stop",
    )


class OpenAIChatBackend:
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key: str | None = None,
        concurrency: int = 8,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        deadline: float = 600.0,
        headers: dict[str, str] | None = None,
        max_image_side: int | None = None,
        seed: int = 0,
        **extra: Any,
    ) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.concurrency = max(1, int(concurrency))
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff = float(backoff)
        self.max_retry_after = max(0.0, float(max_retry_after))
        self.deadline = float(deadline)
        self.headers = {str(k): str(v) for k, v in (headers or {}).items()}  # e.g. a gateway's own key
        self.max_image_side = int(max_image_side) if max_image_side else None
        self.seed = seed
        self.extra = extra  # sent as-is in every request body (e.g. {"top_k": 20})

    def start_task(self, task: str, samples: Sequence[Sample]) -> None:
        pass

    def body(self, request: Request) -> dict[str, Any]:
        params = request.params
        return {
            **self.extra,
            "model": self.model,
            "messages": openai_messages(request, self.max_image_side),
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
        }

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(self._one, requests))

    def _one(self, request: Request) -> Response:
        start = time.perf_counter()
        try:
            data = json.dumps(self.body(request)).encode()
        except Exception as err:  # an image that cannot be read fails this sample only
            return Response.failed(f"{type(err).__name__}: {err}", time.perf_counter() - start)
        attempt = 0
        while True:
            try:
                response = parse_completion(self._post(data, self._time_left(start)))
                response.seconds = time.perf_counter() - start
                return response
            except _Fatal as err:
                return Response.failed(str(err), time.perf_counter() - start)
            except _Retryable as err:
                wait = self._wait(err, attempt, start)
                if wait is None:
                    return Response.failed(self._gave_up(err, attempt, start), time.perf_counter() - start)
                time.sleep(wait)
                attempt += 1
            except Exception as err:  # anything unforeseen (a bad base_url, ...) fails this sample only
                reason = f"{type(err).__name__}: {err} ({self.url})"
                return Response.failed(reason, time.perf_counter() - start)

    def _wait(self, err: _Retryable, attempt: int, start: float) -> float | None:
        """Seconds to wait before the next try, or None when no try is left: retries used up, or the
        wait would pass the sample's deadline. The server's Retry-After is capped at max_retry_after."""
        if attempt >= self.max_retries:
            return None
        wait = min(err.wait, self.max_retry_after) if err.wait is not None else self.backoff * 2**attempt
        return None if time.perf_counter() - start + wait >= self.deadline else wait

    def _gave_up(self, err: _Retryable, attempt: int, start: float) -> str:
        if attempt >= self.max_retries:
            return f"{err.reason} (gave up after {attempt + 1} attempts)"
        spent = time.perf_counter() - start
        return (
            f"{err.reason} (gave up after {attempt + 1} attempts, {spent:.1f}s: deadline {self.deadline:g}s)"
        )

    def _time_left(self, start: float) -> float:
        """The socket timeout of the next try: the per-request timeout, never past the deadline."""
        return max(0.001, min(self.timeout, self.deadline - (time.perf_counter() - start)))

    def probe(self) -> dict[str, Any] | None:
        """The server's `/models` entry for this model; None when the server has no model list, a broken
        one (`transformers serve` offline answers 500), or does not list the name - then only the name
        identifies the model. Raises BackendUnavailable when the server cannot be reached (connection
        errors, timeouts) after `max_retries` retries, or refuses the key (401, 403)."""
        url = f"{self.base_url}/models"
        start, attempt = time.perf_counter(), 0
        while True:
            try:
                body = self._send(url, timeout=self._time_left(start))
                break
            except _Retryable as err:
                wait = self._wait(err, attempt, start)
                if wait is None:
                    if err.status is not None:  # it answered, only its model list is broken
                        return None
                    reason = self._gave_up(err, attempt, start)
                    raise BackendUnavailable(f"backend never answered: {reason}") from None
                time.sleep(wait)
                attempt += 1
            except _Fatal as err:
                if err.status in (404, 405, 501):
                    return None
                raise BackendUnavailable(f"backend refused the request: {err}") from None
        try:
            listed = json.loads(body)["data"]
            return next((dict(m) for m in listed if isinstance(m, dict) and m.get("id") == self.model), None)
        except (ValueError, KeyError, TypeError):
            return None  # not a model list: nothing it says identifies the model

    def _post(self, data: bytes, timeout: float | None = None) -> bytes:
        return self._send(self.url, data, timeout)

    def _send(self, url: str, data: bytes | None = None, timeout: float | None = None) -> bytes:
        """The response body of one POST (or GET without data); raises `_Retryable` or `_Fatal` with a
        reason naming the URL."""
        headers = {"Authorization": f"Bearer {self.api_key}", **self.headers}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as reply:
                return reply.read()
        except urllib.error.HTTPError as err:
            try:
                detail = err.read()[:200].decode("utf-8", "replace") if err.fp is not None else ""
            except Exception:  # the error body itself may time out or be cut
                detail = ""
            reason = f"HTTP {err.code} from {url}: {detail or err.reason}"
            if err.code in RETRY_STATUSES:
                raise _Retryable(reason, _retry_after(err.headers), err.code) from err
            raise _Fatal(reason, err.code) from err
        except TimeoutError as err:
            raise _Retryable(f"timeout after {self.timeout:g}s from {url}") from err
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):
                raise _Retryable(f"timeout after {self.timeout:g}s from {url}") from err
            raise _Retryable(f"connection error to {url}: {err.reason}") from err
        except (OSError, http.client.HTTPException) as err:  # reset mid-read, remote closed, ...
            raise _Retryable(f"connection error to {url}: {type(err).__name__}: {err}") from err

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model,
            "base_url": self.base_url,
            "concurrency": self.concurrency,
            "max_retries": self.max_retries,
        }
