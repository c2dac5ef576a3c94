"""A fake OpenAI-compatible chat-completions server for the `openai` backend's tests (stdlib only).

Run as `python tests/fake_openai_server.py [--answer TEXT]`: it listens on 127.0.0.1 on an ephemeral
port and prints that port as its first line of stdout.

- `POST /v1/chat/completions` records the request and answers. Markers in the user text choose the
  behaviour:
    `[[answer=TEXT]]`  reply TEXT (otherwise the `--answer` default, "A");
    `[[429xN]]`        HTTP 429 the first N times this exact prompt is sent, then OK;
    `[[retry-after=S]]` send `Retry-After: S` with those 429s;
    `[[500]]`          always HTTP 500;   `[[400]]` always HTTP 400;
    `[[sleepS]]`       sleep S seconds (a float) before answering;
    `[[garbage]]`      200 with a body that is not JSON;  `[[nochoices]]` 200 with `"choices": []`;
    `[[reasoning]]`    the message also has `reasoning_content` ("Let me think.");
    `[[length]]`       finish_reason "length".
  `usage.prompt_tokens` is the number of words in the user text, `usage.completion_tokens` the number
  of words in the reply (reasoning included).
- `GET /requests` returns every recorded request as JSON: `{"path", "authorization", "body"}`.
- `GET /v1/models` lists the `--models` (comma list; root `/models/<id>`), as vLLM does; with
  `--models-error CODE` it answers that HTTP status instead (`transformers serve` offline answers 500).
- `--fail-percent P`: HTTP 500 for the prompts whose sha256 falls in the first P% (the same prompts every
  time, so retries fail too) until `POST /heal`, after which every prompt is answered - a server that
  fails P% of requests, then recovers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REASONING = "Let me think."


class State:
    def __init__(
        self, answer: str, models: list[str] | None = None, fail_percent: float = 0.0, models_error: int = 0
    ) -> None:
        self.answer = answer
        self.models_error = models_error
        self.models = models or []
        self.fail_percent = fail_percent
        self.healed = False
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.seen: dict[str, int] = {}  # prompt text -> times received


def user_text(body: dict[str, Any]) -> str:
    parts = []
    for message in body.get("messages", []):
        content = message.get("content")
        if message.get("role") != "user":
            continue
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(p.get("text", "") for p in content if p.get("type") == "text")
    return "\n".join(parts)


def failing(text: str, percent: float) -> bool:
    """Whether `text` is among the `percent`% of prompts this server fails (by the prompt's sha256)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % 10000 < percent * 100


class Handler(BaseHTTPRequestHandler):
    state: State

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        if self.path == "/v1/models" and self.state.models_error:
            self.send(self.state.models_error, b'{"error": "model list unavailable"}')
            return
        if self.path == "/v1/models" and self.state.models:
            listed = [{"id": m, "object": "model", "root": f"/models/{m}"} for m in self.state.models]
            self.send(200, json.dumps({"object": "list", "data": listed}).encode())
            return
        if self.path != "/requests":
            self.send(404, b'{"error": "not found"}')
            return
        with self.state.lock:
            payload = json.dumps(self.state.requests).encode()
        self.send(200, payload)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/heal":
            self.state.healed = True
            self.send(200, b'{"healed": true}')
            return
        if self.path != "/v1/chat/completions":
            self.send(404, b'{"error": "not found"}')
            return
        body = json.loads(raw)
        text = user_text(body)
        with self.state.lock:
            self.state.requests.append(
                {"path": self.path, "authorization": self.headers.get("Authorization"), "body": body}
            )
            self.state.seen[text] = count = self.state.seen.get(text, 0) + 1
        if not self.state.healed and failing(text, self.state.fail_percent):
            self.send(500, b'{"error": "fake overload"}')
            return
        sleep = re.search(r"\[\[sleep([0-9.]+)\]\]", text)
        if sleep:
            time.sleep(float(sleep.group(1)))
        too_many = re.search(r"\[\[429x(\d+)\]\]", text)
        if too_many and count <= int(too_many.group(1)):
            retry_after = re.search(r"\[\[retry-after=([^\]]+)\]\]", text)
            headers = {"Retry-After": retry_after.group(1)} if retry_after else {}
            self.send(429, b'{"error": "rate limited"}', headers)
            return
        for code in (500, 400):
            if f"[[{code}]]" in text:
                self.send(code, json.dumps({"error": f"fake {code}"}).encode())
                return
        if "[[garbage]]" in text:
            self.send(200, b"<html>definitely not json</html>")
            return
        if "[[nochoices]]" in text:
            self.send(200, b'{"choices": []}')
            return
        answer = re.search(r"\[\[answer=([^\]]*)\]\]", text)
        content = answer.group(1) if answer else self.state.answer
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if "[[reasoning]]" in text:
            message["reasoning_content"] = REASONING
        completion_words = len(content.split()) + (len(REASONING.split()) if "[[reasoning]]" in text else 0)
        payload = {
            "id": f"chatcmpl-{count}",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "length" if "[[length]]" in text else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": len(text.split()),
                "completion_tokens": completion_words,
                "total_tokens": len(text.split()) + completion_words,
            },
        }
        self.send(200, json.dumps(payload).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answer", default="A", help="reply when the prompt has no [[answer=...]]")
    parser.add_argument("--models", default="", help="model ids GET /v1/models lists (none: 404)")
    parser.add_argument("--fail-percent", type=float, default=0.0, help="HTTP 500 for P%% of prompts")
    parser.add_argument("--models-error", type=int, default=0, help="HTTP status for GET /v1/models")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    Handler.state = State(args.answer, models, args.fail_percent, args.models_error)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
