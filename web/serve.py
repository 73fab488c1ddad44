"""Serve the web app with worker processes that each listen on the port themselves (SO_REUSEPORT).

    python -m web.serve --host 0.0.0.0 --port 8000 --workers 2

uvicorn's own --workers share one listening socket, and the worker that wakes first accepts every
connection waiting at that moment: 32 turnstiles connecting at once landed 28 on one worker and 4 on the
other (measured under bench/redeem.py), so one core queued requests while the other idled. Here each
worker opens its own socket on the same port and the kernel spreads new connections across them.

- The port must be free when the service starts (SO_REUSEPORT would otherwise let it share the port with a
  stale copy of itself); the master checks before starting any worker.
- SIGTERM or SIGINT stops every worker gracefully (the app's shutdown hooks run), also during start-up.
- If a worker dies on its own, the master logs which one (number and pid) and why (its exit code, or the
  signal that killed it, e.g. SIGKILL from the kernel's out-of-memory killer), stops the others and exits
  1, so a supervisor (systemd, a container) restarts the service; workers die with the master, even if it
  is killed outright. A worker's own unhandled exception is logged by the worker before it ends."""

from __future__ import annotations

import argparse
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time

import uvicorn

APP = "web.app:create_app"
PR_SET_PDEATHSIG = 1
log = logging.getLogger("ticketcenter.serve")


def why_it_ended(exitcode: int) -> str:
    """A worker's exit code in words: 'exit code 3' or 'killed by SIGKILL'."""
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def address(host: str, port: int) -> tuple[socket.AddressFamily, tuple]:
    """The family and socket address to bind `host` (a name, an IPv4 or an IPv6 address, brackets allowed)."""
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


def port_is_free(host: str, port: int) -> bool:
    """Nothing listens there: a bind without SO_REUSEPORT succeeds."""
    family, sockaddr = address(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError:
            return False
    return True


def listening_socket(host: str, port: int) -> socket.socket:
    family, sockaddr = address(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(sockaddr)
    sock.listen(2048)
    return sock


def _die_with_parent(parent: int) -> None:
    """Linux: SIGTERM this worker when the master ends, however it ends (no orphan keeps the port)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the master ended before the request took effect
        sys.exit(0)


def run_worker(host: str, port: int, log_level: str, parent: int) -> None:
    _die_with_parent(parent)
    try:
        _serve(host, port, log_level)
    except BaseException as error:
        if not isinstance(error, SystemExit | KeyboardInterrupt):
            log.critical("worker pid %s stopped by an unhandled error", os.getpid(), exc_info=True)
        raise


def _serve(host: str, port: int, log_level: str) -> None:
    sock = listening_socket(host, port)
    config = uvicorn.Config(
        APP,
        factory=True,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=log_level,
        timeout_keep_alive=60,
    )
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    try:
        if not port_is_free(args.host, args.port):
            print(f"error: {args.host}:{args.port} is in use (another copy of the service?)", file=sys.stderr)
            return 1
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1

    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=run_worker, args=(args.host, args.port, args.log_level, os.getpid()))
        for _ in range(args.workers)
    ]
    asked_to_stop = failed = False

    def stop_all() -> None:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: uvicorn finishes open requests and runs the shutdown hooks

    def on_signal(*_: object) -> None:
        nonlocal asked_to_stop
        asked_to_stop = True
        stop_all()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for worker in workers:
        if asked_to_stop:
            break
        worker.start()
    started = [worker for worker in workers if worker.pid is not None]
    if asked_to_stop:
        stop_all()  # a signal that came while workers were starting
    while any(worker.is_alive() for worker in started):
        ended = [(number, w) for number, w in enumerate(started, 1) if w.exitcode is not None]
        if not asked_to_stop and not failed and ended:
            failed = True  # a worker ended on its own: say which and why, stop the rest, exit 1
            for number, worker in ended:
                log.error(
                    "worker %d of %d (pid %s) ended on its own: %s; stopping the service",
                    number,
                    len(started),
                    worker.pid,
                    why_it_ended(worker.exitcode),
                )
            stop_all()
        time.sleep(0.2)
    for worker in started:
        worker.join()
    if not asked_to_stop and any(worker.exitcode is not None for worker in started):
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
