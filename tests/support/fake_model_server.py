"""A small OpenAI-compatible streaming chat-completions server for driving the real kimi-cli in tests.

It listens on 127.0.0.1 (ephemeral port) in a background thread. Each POST to `/v1/chat/completions` takes
the next scripted `Reply` from a queue (or a plain default text when the queue is empty) and streams it as
SSE chunks — text, then tool calls, then a final chunk carrying `usage` (kimi asks for
`stream_options.include_usage`). Every request body is recorded, so tests can read the tool definitions kimi
sent and the tool results it sent back.

    with FakeModelServer() as server:
        server.add(Reply.tool("WriteFile", path="hello.txt", content="hi\\n"), Reply.text("done"))
        ... point kimi at server.base_url ...
        server.tool_results()   # [{"tool_call_id", "content"}, ...] from the recorded requests
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_NAME = "fake-model"


@dataclass
class ToolCallSpec:
    name: str
    arguments: dict[str, Any]
    id: str = ""


@dataclass
class Reply:
    """One scripted model answer: optional thinking, text, tool calls; the usage it reports; pacing."""

    text: str = ""
    think: str = ""
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    prompt_tokens: int = 100
    completion_tokens: int = 20
    cached_tokens: int = 0
    # Seconds to wait before the first byte (a slow model: lets a test cancel mid-step).
    delay: float = 0.0
    # HTTP error status instead of an answer (e.g. 500, to test provider errors).
    status: int = 200

    @classmethod
    def of_text(cls, text: str, **kw: Any) -> "Reply":
        return cls(text=text, **kw)

    @classmethod
    def tool(cls, name: str, *, text: str = "", usage: tuple[int, int] | None = None, delay: float = 0.0,
             **arguments: Any) -> "Reply":
        reply = cls(text=text, tool_calls=[ToolCallSpec(name, arguments)], delay=delay)
        if usage is not None:
            reply.prompt_tokens, reply.completion_tokens = usage
        return reply


class FakeModelServer:
    def __init__(self, default_text: str = "Done.") -> None:
        self.default_text = default_text
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self.requests: list[dict[str, Any]] = []  # every chat-completions request body, in order
        self.served: list[Reply] = []  # the replies actually sent, in order
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "FakeModelServer":
        server = self

        class Handler(_Handler):
            fake = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-model-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeModelServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # ------------------------------------------------------------------ script
    def add(self, *replies: Reply | str) -> None:
        with self._lock:
            for reply in replies:
                self._replies.append(Reply(text=reply) if isinstance(reply, str) else reply)

    def pending(self) -> int:
        with self._lock:
            return len(self._replies)

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            reply = self._replies.popleft() if self._replies else Reply(text=self.default_text)
            self.served.append(reply)
            return reply

    # ------------------------------------------------------------------ what kimi sent
    def tool_names(self, index: int = 0) -> list[str]:
        tools = self.requests[index].get("tools") or []
        return [t["function"]["name"] for t in tools]

    def tool_definition(self, name: str, index: int = 0) -> dict[str, Any]:
        for tool in self.requests[index].get("tools") or []:
            if tool["function"]["name"] == name:
                return tool["function"]
        raise KeyError(name)

    def tool_results(self) -> list[dict[str, Any]]:
        """The tool-role messages of the last request (what kimi reported back after running tools)."""
        if not self.requests:
            return []
        out = []
        for msg in self.requests[-1].get("messages", []):
            if msg.get("role") == "tool":
                content = msg.get("content")
                if isinstance(content, list):
                    content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
                out.append({"tool_call_id": msg.get("tool_call_id"), "content": content or ""})
        return out

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return True
            time.sleep(0.02)
        return False


class _Handler(BaseHTTPRequestHandler):
    fake: FakeModelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "owned_by": "fake"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, {"error": {"message": "invalid JSON body", "type": "invalid_request_error"}})
            return
        reply = self.fake._next_reply(body)
        if reply.delay and self.fake._stopping.wait(reply.delay):
            return
        if reply.status != 200:
            self._json(reply.status, {"error": {"message": f"fake error {reply.status}", "type": "server_error"}})
            return
        completion_id = f"chatcmpl-fake-{next(self.fake._ids)}"
        if body.get("stream"):
            self._stream(reply, completion_id)
        else:
            self._json(200, _whole_completion(reply, completion_id, self.fake))

    def _json(self, status: int, data: dict[str, Any]) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, reply: Reply, completion_id: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for chunk in _stream_chunks(reply, completion_id, self.fake):
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a cancelled turn)


def _chunk(completion_id: str, delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL_NAME,
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}],
    }


def _usage(reply: Reply) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }
    if reply.cached_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": reply.cached_tokens}
    return usage


def _call_id(spec: ToolCallSpec, fake: FakeModelServer) -> str:
    return spec.id or f"call_{next(fake._ids)}"


def _stream_chunks(reply: Reply, completion_id: str, fake: FakeModelServer):
    yield _chunk(completion_id, {"role": "assistant", "content": ""})
    if reply.think:
        yield _chunk(completion_id, {"reasoning_content": reply.think})
    # Text in a few pieces, like a real model.
    text = reply.text
    step = max(1, len(text) // 3) if text else 1
    for i in range(0, len(text), step):
        yield _chunk(completion_id, {"content": text[i:i + step]})
    for index, spec in enumerate(reply.tool_calls):
        args = json.dumps(spec.arguments)
        half = len(args) // 2
        # The name and the first half of the arguments, then the rest: kimi merges ToolCallPart pieces.
        yield _chunk(completion_id, {"tool_calls": [{
            "index": index, "id": _call_id(spec, fake), "type": "function",
            "function": {"name": spec.name, "arguments": args[:half]},
        }]})
        yield _chunk(completion_id, {"tool_calls": [{"index": index, "function": {"arguments": args[half:]}}]})
    yield _chunk(completion_id, {}, "tool_calls" if reply.tool_calls else "stop")
    usage_chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                   "model": MODEL_NAME, "choices": [], "usage": _usage(reply)}
    yield usage_chunk


def _whole_completion(reply: Reply, completion_id: str, fake: FakeModelServer) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": _call_id(s, fake), "type": "function",
             "function": {"name": s.name, "arguments": json.dumps(s.arguments)}}
            for s in reply.tool_calls
        ]
    return {
        "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": MODEL_NAME,
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
        "usage": _usage(reply),
    }
