"""A scripted Messages API for the runner's tests, served in-process or over 127.0.0.1.

Each conversation follows one named scenario. A new conversation (a request whose only
message is the prompt) takes the next scenario from the queue; later requests find
theirs from a marker in the first assistant reply. A retried first request
(``x-stainless-retry-count`` > 0) belongs to the conversation whose first request
failed, so scenarios that fail their first request must run one at a time.

Every request is checked against the API's rules that a harness can break (roles
alternate, each tool_use is answered by a tool_result in the next turn, the last turn
is the user's); violations are collected in ``errors`` for the tests to assert on.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).parent
CORRECT = (HERE / "correct_submission.py").read_text()
REVERSED = CORRECT.replace("np.log(p / q)", "np.log(q / p)").replace("p * np.log", "q * np.log")
USAGE = {"input_tokens": 1000, "output_tokens": 200}
MARK = re.compile(r"\[scenario (\w+)\]")


def text(s: str) -> dict:
    return {"type": "text", "text": s}


def tool(name: str, tid: str, **args) -> dict:
    return {"type": "tool_use", "id": tid, "name": name, "input": args}


def reply(stop: str, *content: dict) -> dict:
    return {"stop_reason": stop, "content": list(content)}


def error(status: int, kind: str, message: str) -> dict:
    return {"status": status, "error": {"type": "error", "error": {"type": kind, "message": message}}}


def broken(body: bytes) -> dict:
    """A 200 answer whose body is ``body`` as it is (truncated JSON, the wrong shape): a failure
    like an error status, repeated while the SDK retries when it is the last entry."""
    return {"status": 200, "raw": body}


def _message(**fields) -> bytes:
    msg = {"id": "msg_broken", "type": "message", "role": "assistant", "model": "claude-haiku-5-5",
           "content": [text("hi")], "stop_reason": "end_turn", "stop_sequence": None, "usage": USAGE}
    return json.dumps({**msg, **fields}).encode()


# One entry per request of the conversation; an error entry repeats while the SDK retries
# if it is the last entry, otherwise it answers only the first attempt of that step.
SCENARIOS: dict[str, list[dict]] = {
    "correct": [
        reply("tool_use", text("Let me try some code."), tool("python_expression", "toolu_c1", expression="print(2 + 2)")),
        reply("tool_use", tool("submit_answer", "toolu_c2", code=CORRECT)),
    ],
    "wrong": [reply("tool_use", text("Done."), tool("submit_answer", "toolu_w1", code=REVERSED))],
    "no_submit": [reply("end_turn", text("Here is my answer:\n```python\n" + CORRECT + "```"))],
    "max_tokens": [
        reply("max_tokens", text("Let me check the numbers"), tool("python_expression", "toolu_m1", expression="print(")),
        reply("tool_use", tool("submit_answer", "toolu_m2", code=CORRECT)),
    ],
    "pause": [
        reply("pause_turn", text("Still working on it.")),
        reply("tool_use", tool("submit_answer", "toolu_p2", code=CORRECT)),
    ],
    "refusal": [reply("refusal", text("I can't help with that."))],
    "rate_limited": [
        error(429, "rate_limit_error", "Number of request tokens has exceeded your rate limit"),
        reply("tool_use", tool("submit_answer", "toolu_r1", code=CORRECT)),
    ],
    "server_error": [error(500, "api_error", "Internal server error")],
    "sys_exit": [
        reply("tool_use", tool("python_expression", "toolu_s1", expression="import sys\nprint('bye')\nsys.exit(0)")),
        reply("tool_use", tool("submit_answer", "toolu_s2", code=CORRECT)),
    ],
    "flood": [
        reply("tool_use", tool("python_expression", "toolu_f1", expression="print('x' * 100_000)\n1 / 0")),
        reply("tool_use", tool("submit_answer", "toolu_f2", code=CORRECT)),
    ],
    "single_correct": [reply("end_turn", text("Here it is:\n```python\n" + CORRECT + "```\nDone."))],
    "single_no_code": [reply("end_turn", text("Compute a histogram of each column, then KL."))],
    "unauthorized": [error(401, "authentication_error", "invalid x-api-key")],
    "slow": [reply("tool_use", tool("submit_answer", "toolu_sl1", code=CORRECT))],
    "truncated_json": [broken(_message()[:57])],
    "null_content": [broken(_message(content=None))],
    "not_an_object": [broken(b"[1, 2, 3]")],
    "no_usage": [broken(_message(usage=None))],
    "truncated_once": [
        broken(_message()[:40]),
        reply("tool_use", tool("submit_answer", "toolu_t1", code=CORRECT)),
    ],
    "api_error_after_a_reply": [
        reply("tool_use", tool("python_expression", "toolu_a1", expression="print(1)")),
        error(500, "api_error", "Internal server error"),
    ],
}


class FakeAPI:
    """The scripted server state, shared by every request of a test."""

    def __init__(self, scenarios: list[str], *, delay_s: float = 0.0):
        self.queue = list(scenarios)
        self.delay_s = delay_s
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict, int]] = []
        self.errors: list[str] = []
        self.awaiting_first: str | None = None
        self.started: list[str] = []

    def respond(self, headers, body: bytes) -> tuple[int, dict, bytes]:
        """Status, headers and body answering one POST /v1/messages."""
        req = json.loads(body)
        retry = int(headers.get("x-stainless-retry-count", "0"))
        with self.lock:
            name = self._scenario(req, retry)
            self.requests.append((name, req, retry))
            self._check(name, req)
        step = sum(1 for m in req["messages"] if m["role"] == "assistant")
        script = SCENARIOS[name]
        entry = script[min(step, len(script) - 1)]
        if "status" in entry and retry > 0 and step < len(script) - 1:
            entry = script[step + 1]
        if "raw" in entry:
            return 200, {"retry-after-ms": "1"}, entry["raw"]
        if "status" in entry:
            return entry["status"], {"retry-after-ms": "1"}, json.dumps(entry["error"]).encode()
        content = list(entry["content"])
        if step == 0:
            content.insert(0, text(f"[scenario {name}]"))
        msg = {
            "id": f"msg_{name}_{step}",
            "type": "message",
            "role": "assistant",
            "model": req["model"],
            "content": content,
            "stop_reason": entry["stop_reason"],
            "stop_sequence": None,
            "usage": USAGE,
        }
        return 200, {"request-id": f"req_{name}_{step}"}, json.dumps(msg).encode()

    def _scenario(self, req: dict, retry: int) -> str:
        for m in req["messages"]:
            if m["role"] == "assistant":
                for block in m["content"]:
                    found = MARK.search(block.get("text", "")) if block.get("type") == "text" else None
                    if found:
                        return found.group(1)
        if retry > 0 and self.awaiting_first:
            return self.awaiting_first
        name = self.queue.pop(0)
        self.started.append(name)
        self.awaiting_first = name if "status" in SCENARIOS[name][0] else None
        return name

    def _check(self, name: str, req: dict) -> None:
        msgs = req["messages"]
        if msgs[-1]["role"] != "user":
            self.errors.append(f"{name}: the last message is not the user's")
        for i, m in enumerate(msgs):
            if i and m["role"] == msgs[i - 1]["role"]:
                self.errors.append(f"{name}: two {m['role']} messages in a row at {i}")
            if m["role"] != "assistant":
                continue
            asked = {b["id"] for b in m["content"] if b.get("type") == "tool_use"}
            nxt = msgs[i + 1]["content"] if i + 1 < len(msgs) else []
            answered = {b["tool_use_id"] for b in nxt if isinstance(b, dict) and b.get("type") == "tool_result"}
            if asked != answered:
                self.errors.append(f"{name}: tool_use {sorted(asked)} answered by {sorted(answered)}")

    def handle_httpx(self, request):
        """An httpx2.MockTransport handler."""
        import httpx2

        status, headers, body = self.respond(request.headers, request.content)
        if self.delay_s:
            time.sleep(self.delay_s)
        return httpx2.Response(status, headers={"content-type": "application/json", **headers}, content=body)

    async def handle_httpx_async(self, request):
        """An async MockTransport handler that takes ``delay_s`` without blocking the loop."""
        import asyncio

        import httpx2

        status, headers, body = self.respond(request.headers, request.content)
        await asyncio.sleep(self.delay_s)
        return httpx2.Response(status, headers={"content-type": "application/json", **headers}, content=body)

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        """Serve on 127.0.0.1 from a daemon thread; returns the server and its base URL."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status, headers, payload = api.respond({k.lower(): v for k, v in self.headers.items()}, body)
                time.sleep(api.delay_s)
                self.send_response(status)
                for key, value in {"content-type": "application/json", **headers}.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"
