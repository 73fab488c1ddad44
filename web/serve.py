"""Serve the web app with worker processes that each listen on the port themselves (SO_REUSEPORT).

    python -m web.serve --host 0.0.0.0 --port 8000 --workers 2

uvicorn's own --workers share one listening socket, and the worker that wakes first accepts every
connection waiting at that moment: 32 turnstiles connecting at once landed 28 on one worker and 4 on the
other (measured under bench/redeem.py), so one core queued requests while the other idled. Here each
worker opens its own socket on the same port and the kernel spreads new connections across them. SIGTERM
or SIGINT stops every worker gracefully (the app's shutdown hooks run); if a worker dies, the others are
stopped too and the exit status is non-zero, so a supervisor (systemd, a container) restarts the service."""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import socket
import sys
import time

import uvicorn

APP = "web.app:create_app"


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def run_worker(host: str, port: int, log_level: str) -> None:
    sock = listening_socket(host, port)
    config = uvicorn.Config(
        APP, factory=True, loop="uvloop", http="httptools", access_log=False, log_level=log_level, timeout_keep_alive=60,
    )
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=run_worker, args=(args.host, args.port, args.log_level)) for _ in range(args.workers)]
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: uvicorn finishes open requests and runs the shutdown hooks

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.start()
    while any(worker.is_alive() for worker in workers):
        if not stopping and any(worker.exitcode is not None for worker in workers):
            stop()  # one worker died: stop the rest and let the supervisor restart the service
        time.sleep(0.2)
    for worker in workers:
        worker.join()
    return 0 if stopping and all(worker.exitcode in (0, -signal.SIGTERM) for worker in workers) else 1


if __name__ == "__main__":
    sys.exit(main())
