"""The published page in a real browser: headless Chromium sorts, filters, and runs no injected script.

Two drivers. `chromium --dump-dom` of a URL whose fragment carries the view
(`#sort=KEY&dir=asc|desc&q=TEXT&baselines=0`, applied on load by the code a header click runs) shows the
table after a scripted sort. The DevTools protocol (a small stdlib websocket client below) clicks the
headers and types into the filter like a user. Injected code would set `window.__xss` and `data-xss` on
<html>, and `alert` is replaced before any page script runs so that a call to it is caught too; the
page's own script sets `data-sorted` on <body>, which proves that scripts did run.

The board has what a new user's store has: one main column per task, a run under another prompt (its own
section below the main table) and a blank-image run (a visual gain on its model's row).

Set VLMBENCH_UPDATE_SCREENSHOT=1 to refresh docs/images/leaderboard.png from this test's board.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from vlmbench.leaderboard.publish import publish
from vlmbench.records.fingerprint import name_fingerprint
from vlmbench.records.record import validate_record
from vlmbench.records.store import Store
from vlmbench.runner import EvalConfig, evaluate
from vlmbench.stats import wilson_interval

CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed (Debian: apt-get install chromium; .ci/run installs it)",
)
ROOT = Path(__file__).resolve().parents[1]
SENTINEL = "window.__xss='{0}';document.documentElement.setAttribute('data-xss','{0}')"
ALERT = "<script>alert(1)</script>"
ATTR = f'"><img src=x onerror="{SENTINEL.format("attr")}"> \'quoted\''
# synthetic models beside the real chance rows: (name, params, algorithm, accuracy per task, tokens/sample,
# samples of the first task that failed - a partial run, added with allow_partial)
MODELS = [
    ("demo-vlm-7b (synthetic record)", 7_600_000_000, None, (0.72, 0.55, 0.64, 0.48), 180, 0),
    ("demo-vlm-2b-grpo (synthetic record)", 2_200_000_000, "grpo", (0.52, 0.41, 0.58, 0.33), 60, 0),
    ("demo-vlm-1b-flaky-server (synthetic record)", 1_000_000_000, None, (0.45, 0.35, 0.50, 0.25), 30, 3),
    (ALERT, 500_000_000, None, (0.31, 0.23, 0.37, 0.12), 12, 0),
    (ATTR, 900_000_000, "sft", (0.40, 0.30, 0.45, 0.20), 25, 0),
]
SYNTH = ["synth_chart", "synth_geometry", "synth_scene", "synth_table_math"]  # the tasks MODELS score
HTML_OUTPUT = (
    f'<img src=x onerror="{SENTINEL.format("output")}"><script>{SENTINEL.format("script")}</script> 42'
)


def _clone(source: Path, runs: Path, index: int, model: tuple) -> None:
    """A synthetic run under exactly the protocols of a real one (so it shares the main columns), with
    the fingerprint of its own name: a valid record of another model."""
    name, params, algorithm, accuracy, tokens, failed = model
    record = json.loads((source / "run.json").read_text())
    record = copy.deepcopy(record)
    record["run_id"] = f"synthetic-{index}"
    record["model"].update(
        name=name, backend="hf", n_params=params, fingerprint=name_fingerprint(name).model_dump(mode="json")
    )
    if algorithm:
        record["lineage"] = {
            "base_model": "demo-base",
            "algorithm": algorithm,
            "config_hash": "0",
            "steps": 100,
        }
    for (_task, result), value in zip(sorted(record["tasks"].items()), accuracy, strict=True):
        n = result["n"]
        correct = round(value * n)
        low, high = wilson_interval(correct, n)
        result["metrics"] = {
            "official": correct / n,
            "official_ci95": [low, high],
            "robust": correct / n,
            "robust_ci95": [low, high],
            "unparsed_rate": 0.0,
        }
        result["tokens_out"] = tokens * n
    first = record["tasks"][min(record["tasks"])]
    if failed:  # failed samples count as wrong: the score above is over all n
        first.update(status="partial", n_failed=failed, failures={"HTTP 500": failed})
        record["status"] = "partial"
    folder = runs / record["run_id"]
    (folder / "samples").mkdir(parents=True)
    for task in record["tasks"]:
        rows = [json.loads(line) for line in (source / "samples" / f"{task}.jsonl").read_text().splitlines()]
        for row in rows:
            row["output"] = HTML_OUTPUT
        for row in rows[:failed] if task == min(record["tasks"]) else []:
            row.update(error="HTTP 500: Internal Server Error", official=0.0, robust=0.0)
        data = "".join(json.dumps(r) + "\n" for r in rows).encode()
        (folder / "samples" / f"{task}.jsonl").write_bytes(data)
        record["tasks"][task]["samples_sha256"] = hashlib.sha256(data).hexdigest()  # its own samples
    validate_record(record)
    (folder / "run.json").write_text(json.dumps(record))


def build_site(root: Path) -> Path:
    runs = root / "runs"
    for model in ("random", "majority"):
        evaluate(
            EvalConfig(model=model, backend="baseline", tasks=",".join(SYNTH), limit=40, output_dir=runs)
        )
    # the same chance model under the chain-of-thought prompt: its own column, never mixed with the main one
    cot, _ = evaluate(EvalConfig(tasks="synth_chart", limit=40, prompt="cot", output_dir=runs))
    # and with blank images: the visual gain of the random row, not a row or a column of its own
    blank, _ = evaluate(EvalConfig(tasks="synth_scene", limit=40, image_ablation="blank", output_dir=runs))
    source = next(p for p in runs.glob("random-baseline-*") if p not in (cot, blank))
    for index, model in enumerate(MODELS):
        _clone(source, runs, index, model)
    store = Store(runs / "vlmbench.sqlite")
    refused = [r for r in store.add([runs]) if r.action == "refused"]
    assert [r.run_id for r in refused] == ["synthetic-2"]  # the partial run, until it is allowed
    store.add([runs / "synthetic-2"], allow_partial=True)
    return publish("synth", store, root / "site", samples_per_task=8).index


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("board"))


def _chromium(url: str, tmp: Path, *args: str) -> str:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--hide-scrollbars", f"--user-data-dir={tmp / 'profile'}", *args, url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Dom(HTMLParser):
    """The board table's rows (in DOM order) and the attributes of <html>, <body> and the headers."""

    def __init__(self) -> None:
        super().__init__()
        self.html: dict[str, str | None] = {}
        self.body: dict[str, str | None] = {}
        self.heads: dict[str, dict[str, str | None]] = {}
        self.rows: list[dict] = []
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "html":
            self.html = attr
        elif tag == "body":
            self.body = attr
        elif tag == "th" and "data-key" in attr:
            self.heads[str(attr["data-key"])] = attr
        elif tag == "tbody" and not self.rows and not self._in_body:
            self._in_body = True
        elif tag == "tr" and self._in_body and "data-key" in attr:
            self.rows.append(
                {"key": attr["data-key"], "hidden": "hidden" in attr, "sort": [], "cls": attr.get("class")}
            )
        elif tag == "td" and self._in_body and self.rows:
            self.rows[-1]["sort"].append(attr.get("data-sort"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False


def _dom(site: Path, fragment: str, tmp_path: Path) -> _Dom:
    parser = _Dom()
    parser.feed(_chromium(site.as_uri() + fragment, tmp_path, "--dump-dom"))
    assert parser.body.get("data-sorted"), "the page's script did not run"
    return parser


def _expected(site: Path, column: str, descending: bool) -> list[str]:
    data = json.loads((site.parent / "results.json").read_text())
    rows = [(r["cells"].get(column, {}).get("value"), r["model_key"]) for r in data["rows"]]
    present = sorted((r for r in rows if r[0] is not None), key=lambda r: r[0], reverse=descending)
    return [key for _, key in present] + [key for value, key in rows if value is None]


def test_sorts_by_a_column(site: Path, tmp_path: Path) -> None:
    dom = _dom(site, "#sort=synth_scene&dir=desc", tmp_path)
    assert dom.body["data-sorted"] == "synth_scene:desc"
    assert dom.heads["synth_scene"].get("aria-sort") == "descending"
    assert [r["key"] for r in dom.rows] == _expected(site, "synth_scene", descending=True)
    ascending = _dom(site, "#sort=synth_geometry&dir=asc", tmp_path)
    assert [r["key"] for r in ascending.rows] == _expected(site, "synth_geometry", descending=False)
    default = _dom(site, "", tmp_path)  # by rank, as published
    data = json.loads((site.parent / "results.json").read_text())
    assert [r["key"] for r in default.rows] == [r["model_key"] for r in data["rows"]]


def test_filters_rows(site: Path, tmp_path: Path) -> None:
    dom = _dom(site, "#q=synthetic", tmp_path)
    visible = [r for r in dom.rows if not r["hidden"]]
    assert len(visible) == 3 and dom.body["data-filtered"] == "3"
    no_chance = _dom(site, "#baselines=0", tmp_path)
    assert {r["cls"] for r in no_chance.rows if not r["hidden"]} == {None}
    assert sum(r["hidden"] for r in no_chance.rows) == 2  # random and majority


def test_no_injected_script_runs(site: Path, tmp_path: Path) -> None:
    dom = _dom(site, "#sort=model&dir=asc", tmp_path)
    assert "data-xss" not in dom.html
    assert len(dom.rows) == 7
    data = json.loads((site.parent / "results.json").read_text())
    hostile = [r["model_key"][:8] for r in data["rows"] if r["model"] in (ALERT, ATTR)]
    pages = [p for p in sorted((site.parent / "models").glob("*.html")) if p.stem[-8:] in hostile]
    assert len(pages) == 2  # the pages of the models with hostile names, whose outputs hold HTML too
    for page in pages:
        parser = _Dom()
        parser.feed(_chromium(page.as_uri(), tmp_path, "--dump-dom"))
        assert parser.body.get("data-ready") == "1", f"{page.name}: the page's script did not run"
        assert "data-xss" not in parser.html, page.name


def test_screenshot(site: Path, tmp_path: Path) -> None:
    shot = tmp_path / "leaderboard.png"
    _chromium(site.as_uri(), tmp_path, f"--screenshot={shot}", "--window-size=1400,1000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("VLMBENCH_UPDATE_SCREENSHOT"):
        target = ROOT / "docs" / "images" / "leaderboard.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


# ---------------------------------------------------------------- the DevTools protocol, stdlib only


class _DevTools:
    """Just enough of a websocket client (RFC 6455, text frames) to drive one page over CDP."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.last_id = 0

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "DevTools closed the connection"
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send(self, text: str) -> None:
        data = text.encode()
        header = bytearray([0x81])
        if len(data) < 126:
            header.append(0x80 | len(data))
        elif len(data) < 1 << 16:
            header += bytes([0x80 | 126]) + len(data).to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + len(data).to_bytes(8, "big")
        mask = os.urandom(4)
        self.sock.sendall(bytes(header) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _message(self) -> dict:
        payload = b""
        while True:
            first, second = self._read(2)
            size = second & 0x7F
            if size >= 126:
                size = int.from_bytes(self._read(2 if size == 126 else 8), "big")
            payload += self._read(size)
            if first & 0x80:
                return json.loads(payload)

    def call(self, method: str, **params: object) -> dict:
        self.last_id += 1
        self._send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = self._message()
            if message.get("id") == self.last_id:
                assert "error" not in message, message
                return message["result"]

    def js(self, expression: str) -> object:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        for _ in range(200):
            if self.js("document.readyState") == "complete" and self.js("location.href").split("#")[0] == url:
                return
            time.sleep(0.05)
        raise AssertionError(f"{url} did not load")


@pytest.fixture
def devtools(tmp_path: Path):
    log = tmp_path / "chromium.log"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--remote-debugging-port=0", f"--user-data-dir={tmp_path / 'p'}", "about:blank",
    ]  # fmt: skip
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sink)
    try:
        endpoint = None
        for _ in range(600):  # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
            found = [line for line in log.read_text().splitlines() if "DevTools listening on" in line]
            if found:
                endpoint = urllib.parse.urlparse(found[0].split()[-1])
                break
            time.sleep(0.05)
        if endpoint is None:
            pytest.skip("Chromium did not open a DevTools endpoint")
        with urllib.request.urlopen(f"http://{endpoint.netloc}/json/list", timeout=30) as answer:
            target = next(t for t in json.load(answer) if t["type"] == "page")
        client = _DevTools(target["webSocketDebuggerUrl"])
        client.call("Page.enable")
        client.call(
            "Page.addScriptToEvaluateOnNewDocument",
            source="window.alert = () => { window.__xss = 'alert'; };",
        )
        yield client
        client.sock.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def _visible_keys(client: _DevTools) -> list[str]:
    rows = "Array.from(document.querySelectorAll('#board tbody tr'))"
    return client.js(f"{rows}.filter(r => !r.hidden).map(r => r.dataset.key)")


def test_a_partial_cell_shows_its_failed_samples(site: Path, devtools: _DevTools) -> None:
    devtools.open(site.as_uri())
    marks = devtools.js(
        "Array.from(document.querySelectorAll('#board td.partial .failed'))"
        ".map(m => [m.closest('tr').querySelector('a.model').textContent, m.textContent, m.title])"
    )
    flaky = "demo-vlm-1b-flaky-server (synthetic record)"
    note = "3 of 40 samples failed (HTTP 500: 3) and count as wrong"
    assert marks == [
        [flaky, "3 failed", note],
        [flaky, "3 failed", "3 failed samples in the main columns, counted as wrong"],
    ]


def test_clicks_and_typing_in_a_live_page(site: Path, devtools: _DevTools) -> None:
    devtools.open(site.as_uri())
    devtools.js("document.querySelector('th[data-key=\"synth_table_math\"] button').click()")
    assert _visible_keys(devtools) == _expected(site, "synth_table_math", descending=True)
    devtools.js(
        "document.querySelector('th[data-key=\"synth_table_math\"] button').click()"
    )  # again: ascending
    assert _visible_keys(devtools) == _expected(site, "synth_table_math", descending=False)
    assert "sort=synth_table_math" in devtools.js("location.hash") and "dir=asc" in devtools.js(
        "location.hash"
    )
    devtools.js(
        "const f = document.getElementById('filter'); f.value = 'GRPO'; f.dispatchEvent(new Event('input'))"
    )
    assert (
        len(_visible_keys(devtools)) == 1
        and devtools.js("document.getElementById('shown').textContent") == "1"
    )
    assert devtools.js("typeof window.__xss") == "undefined"
    data = json.loads((site.parent / "results.json").read_text())
    for row in data["rows"]:
        if row["model"] in (ALERT, ATTR):
            devtools.js(f"document.querySelector('tr[data-key=\"{row['model_key']}\"] a.model').click()")
            for _ in range(200):
                if (
                    "/models/" in devtools.js("location.href")
                    and devtools.js("document.readyState") == "complete"
                ):
                    break
                time.sleep(0.05)
            assert devtools.js("document.body.dataset.ready") == "1"
            assert devtools.js("document.querySelector('h1').textContent").startswith(row["model"])
            assert devtools.js("typeof window.__xss") == "undefined"
            devtools.open(site.as_uri())


def test_main_table_sections_and_visual_gain(site: Path, devtools: _DevTools) -> None:
    devtools.call(
        "Emulation.setDeviceMetricsOverride", width=1400, height=1000, deviceScaleFactor=1, mobile=False
    )
    devtools.open(site.as_uri())
    heads = devtools.js("Array.from(document.querySelectorAll('#board thead th')).map(t => t.dataset.key)")
    assert heads == ["rank", "model", "size", "backend", "algorithm", *SYNTH, "aggregate"]
    scroll = devtools.js(
        "(() => { const s = document.getElementById('board').parentElement;"
        " return [s.scrollWidth, s.clientWidth]; })()"
    )
    assert scroll[0] <= scroll[1], f"the main table scrolls sideways at 1400 px: {scroll}"
    sections = devtools.js(
        "Array.from(document.querySelectorAll('#other-protocols section.protocol'))"
        ".map(s => [s.dataset.section, s.querySelectorAll('tbody tr').length])"
    )
    # the chance model under the chain-of-thought prompt (and its longer token budget)
    assert sections == [["prompt: cot; generation: max_new_tokens=1024", 1]]
    assert devtools.js("document.querySelectorAll('#board tbody tr').length") == 7  # no ablated row
    data = json.loads((site.parent / "results.json").read_text())
    [random] = [r for r in data["rows"] if r["model"] == "random"]
    gain = devtools.js(
        f"document.querySelector('#board tr[data-key=\"{random['model_key']}\"] a.gain').textContent"
    )
    assert gain.endswith(" vs blank")
    rows = devtools.js("Array.from(document.querySelectorAll('#gains tbody tr')).map(r => r.dataset.model)")
    assert rows == [random["model_key"]]
    assert random["visual_gain"]["synth_scene~blank"]["paired"] is True  # both runs' samples are at hand
