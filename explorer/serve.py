"""Running the app with uvicorn: in the foreground (`serve`, what scripts/explore.py does) or in a
background thread on a free port (`ServerThread`, for tests and the latency benchmark)."""

from __future__ import annotations

import threading
import time

import uvicorn


def serve(app, host: str, port: int) -> None:
    """Serves `app` on host:port until Ctrl+C."""
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


class ServerThread:
    """`with ServerThread(app) as server: server.url` serves app on 127.0.0.1 (a free port) in a thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, start_timeout_s: float = 30.0):
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.host = host
        self.start_timeout_s = start_timeout_s

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the explorer server did not start on {self.host}")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
