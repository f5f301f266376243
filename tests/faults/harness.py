"""The fault suite's harness: servers, databases, a small HTTP client, memory readings, results.

Standard library only. Everything listens on loopback; every process and database the suite
creates is registered here, so that `Suite.close()` (run on exit, on Ctrl-C and on SIGTERM)
removes it all whatever state a scenario was left in.
"""

import contextlib
import http.client
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field

# A server is ready when /readyz answers 200; a start that takes longer than this is a failure.
READY_DEADLINE = 30.0
# The soft open-file limit servers start with: the usual default of a login shell or a systemd
# unit. The suite's own environment may allow far more (20,000 on the build machines), which
# would hide a server that needs more than 1,024 descriptors and does not raise its own limit.
SERVER_SOFT_NOFILE = 1024
# Lines of a server's log shown under a failed check.
LOG_TAIL_LINES = 25


def now():
    return time.monotonic()


def free_port():
    """A loopback port nobody listens on right now (the kernel's choice, so collisions are rare)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mib(kib):
    return kib / 1024.0


def percentile(values, p):
    """The value at the p-th percentile's rank, rounded; NaN for none (printed as n/a, not hidden)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100.0 * (len(ordered) - 1)))))]


def ms(seconds):
    return "%.0f ms" % (seconds * 1000.0) if seconds == seconds else "n/a"


# --- HTTP ---------------------------------------------------------------------------------------


@dataclass
class Reply:
    """One exchange. `status` is None when no HTTP answer came back; `error` then says why."""

    status: object
    headers: dict
    body: bytes
    started: float
    seconds: float
    error: str = ""

    @property
    def is_problem(self):
        return self.headers.get("content-type", "").startswith("application/problem+json")

    def describe(self):
        return str(self.status) if self.status is not None else "no answer (%s)" % self.error


def encode_request(method, path, body=b"", headers=()):
    """An HTTP/1.1 request as bytes. `Connection: close`: every request of the suite is on a
    connection of its own, so that a slow or stuck one never delays the next measurement."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1", "Connection: close"]
    names = {name.lower() for name, _ in headers}
    if body or method in ("POST", "PUT", "PATCH"):
        if "content-length" not in names:
            lines.append("Content-Length: %d" % len(body))
    lines.extend("%s: %s" % (name, value) for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def connect(port, timeout, source=None):
    """A connection to the server; `source` is a loopback address of 127.0.0.0/8 to connect from,
    for clients that must look like different hosts (the login throttle counts per address)."""
    return socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                    source_address=(source, 0) if source else None)


def exchange(sock, method, path, body=b"", headers=(), timeout=10.0, started=None):
    """Sends one request on a connected socket and reads the answer.

    The body is sent whole before reading; if the server answers early and closes (a 413 before
    the end of a large body), the write fails but the answer is still read: that is the answer
    a client gets."""
    started = now() if started is None else started
    sock.settimeout(timeout)
    send_error = ""
    try:
        sock.sendall(encode_request(method, path, body, headers))
    except (BrokenPipeError, ConnectionResetError) as error:
        send_error = "while sending: %s" % error
    except OSError as error:
        return Reply(None, {}, b"", started, now() - started, "while sending: %s" % error)
    try:
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        payload = response.read()
        headers_in = {name.lower(): value for name, value in response.getheaders()}
        return Reply(response.status, headers_in, payload, started, now() - started)
    except (OSError, http.client.HTTPException) as error:
        reason = "%s: %s" % (type(error).__name__, error)
        if send_error:
            reason = "%s; %s" % (send_error, reason)
        return Reply(None, {}, b"", started, now() - started, reason)


def request(port, method, path, body=b"", headers=(), timeout=10.0, source=None):
    """One request on a new connection. The latency includes connecting: a server that stops
    accepting connections must show up in it."""
    started = now()
    try:
        sock = connect(port, timeout, source)
    except OSError as error:
        return Reply(None, {}, b"", started, now() - started, "while connecting: %s" % error)
    with sock:
        return exchange(sock, method, path, body, headers, timeout, started)


def json_headers(token=None):
    headers = [("Content-Type", "application/json")]
    if token:
        headers.append(("Authorization", "Bearer " + token))
    return headers


LOGIN = "/api/v1/auth/login"


def login_body(email, password):
    return json.dumps({"email": email, "password": password}).encode()


def login(server, email, password):
    """An access token for the account, or a RuntimeError saying why not."""
    reply = request(server.port, "POST", LOGIN, login_body(email, password), json_headers(), timeout=30)
    if reply.status != 200:
        raise RuntimeError("login as %s failed: %s %s" % (email, reply.describe(), reply.body[:200]))
    return json.loads(reply.body)["access_token"]


def verify_articles(server, token, articles):
    """Reads each (id, title) back through the admin API: the ids missing, and those with another title."""
    missing, wrong, lock = [], [], threading.Lock()
    queue = iter(list(articles))

    def verifier(_index):
        for article_id, title in queue:  # a shared iterator: each article checked once
            reply = request(server.port, "GET", "/api/v1/admin/articles/%d" % article_id,
                            headers=[("Authorization", "Bearer " + token)], timeout=30)
            with lock:
                if reply.status != 200:
                    missing.append((article_id, reply.describe()))
                elif json.loads(reply.body)["data"]["title"] != title:
                    wrong.append(article_id)

    join_all(run_threads(4, verifier), 300)
    return missing, wrong


# --- databases ----------------------------------------------------------------------------------


class SqliteDatabase:
    kind = "sqlite"

    def __init__(self, directory):
        self.url = "sqlite://" + os.path.join(directory, "masthead.db")

    def drop(self):
        pass  # the file goes with its scenario's temporary directory


class PostgresDatabase:
    """A fresh database on the PostgreSQL server of the admin URL, dropped afterwards."""

    kind = "postgres"

    def __init__(self, admin_url, name):
        self.admin_url = admin_url
        self.name = name
        parts = urllib.parse.urlsplit(admin_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + name))
        psql(admin_url, 'CREATE DATABASE "%s"' % name)

    def url_via(self, host, port):
        """The URL of this database through another address (the outage proxy)."""
        parts = urllib.parse.urlsplit(self.url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = "%s%s%s:%d" % (userinfo, "@" if userinfo else "", host, port)
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))

    def drop(self):
        # FORCE: a server killed with -9 may leave a backend that still holds the database.
        psql(self.admin_url, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name)


def psql(url, sql):
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=60,
    )


# --- servers ------------------------------------------------------------------------------------


def _server_command(binary):
    """`masthead serve`, started with the soft open-file limit of SERVER_SOFT_NOFILE (the hard limit
    is left as it is, so that a server may raise its own). Through util-linux's `prlimit`, which
    every Debian has: a `preexec_fn` would run Python between fork and exec, which may deadlock in
    a process with threads."""
    command = [binary, "serve"]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = SERVER_SOFT_NOFILE if hard == resource.RLIM_INFINITY else min(SERVER_SOFT_NOFILE, hard)
    if shutil.which("prlimit"):
        return ["prlimit", "--nofile=%d:" % soft, "--"] + command
    print("warning: no prlimit; servers inherit the suite's open-file limit", flush=True)
    return command


class Server:
    """A `masthead serve` process with its own environment, port and log file."""

    def __init__(self, suite, database, workdir, env, label):
        self.suite = suite
        self.database = database
        self.workdir = workdir
        self.env = env
        self.label = label
        self.log_path = os.path.join(workdir, "%s.log" % label)
        self.process = None
        self.port = None

    def start(self):
        # A free port can be taken between the probe and the server's bind (by any process on the
        # machine): the server then exits at once saying so, and another port is tried.
        for attempt in range(3):
            self.port = free_port()
            env = self.suite.server_env(self.database, self.env)
            env["MASTHEAD_ADDR"] = "127.0.0.1:%d" % self.port
            # Appending: a restarted server's log follows the one it replaces.
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    _server_command(self.suite.binary),
                    cwd=self.workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            self.suite.track(self.process)
            try:
                self.wait_ready()
                return self
            except RuntimeError:
                lost_port = self.process.poll() is not None and any("cannot listen" in line for line in self.log_tail(3))
                if not lost_port or attempt == 2:
                    raise
        return self

    def wait_ready(self, deadline=READY_DEADLINE):
        """Polls /readyz until it answers 200: the server listens and its database answers."""
        until = now() + deadline
        last = "nothing yet"
        while now() < until:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "%s exited with status %s before it was ready" % (self.label, self.process.returncode)
                )
            reply = request(self.port, "GET", "/readyz", timeout=2.0)
            if reply.status == 200:
                return
            last = reply.describe()
            time.sleep(0.05)
        raise RuntimeError("%s was not ready within %.0f s (last /readyz: %s)" % (self.label, deadline, last))

    @property
    def pid(self):
        return self.process.pid

    def memory(self):
        """(VmRSS, VmHWM) in MiB: resident now, and the peak since the process started."""
        values = {}
        with open("/proc/%d/status" % self.pid) as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    values[name] = mib(int(rest.split()[0]))
        return values["VmRSS"], values["VmHWM"]

    def kill9(self):
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        # A graceful stop may wait for requests in progress (MASTHEAD_SHUTDOWN_GRACE_SECONDS, 5 s):
        # not needed here.
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill9()

    def log_tail(self, lines=LOG_TAIL_LINES):
        try:
            with open(self.log_path, "rb") as log:
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]

    # Convenience wrappers.
    def get(self, path, timeout=10.0, headers=()):
        return request(self.port, "GET", path, timeout=timeout, headers=headers)

    def post_json(self, path, payload, token=None, timeout=10.0):
        return request(self.port, "POST", path, json.dumps(payload).encode(), json_headers(token), timeout)


# --- results ------------------------------------------------------------------------------------


@dataclass
class Result:
    ok: bool
    scenario: str
    backend: str
    check: str
    detail: str


class Scope:
    """One scenario on one backend: its temporary directory, its servers, its checks."""

    def __init__(self, suite, scenario, backend, directory):
        self.suite = suite
        self.scenario = scenario
        self.backend = backend
        self.directory = directory
        self.servers = []
        self.failed = False

    def check(self, name, ok, detail):
        self.failed |= not ok
        self.suite.record(Result(bool(ok), self.scenario, self.backend, name, detail))
        return ok

    def server(self, database, label="server", **env):
        """Starts a server on `database` with extra environment variables, and waits until ready."""
        server = Server(self.suite, database, self.directory, {k: str(v) for k, v in env.items()}, label)
        self.servers.append(server)
        return server.start()

    def cli(self, database, args, stdin=None, timeout=600):
        """Runs `masthead ARGS` against `database`; returns its standard output."""
        done = subprocess.run(
            [self.suite.binary] + list(args),
            cwd=self.directory,
            env=self.suite.server_env(database, {}),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError("masthead %s failed: %s" % (" ".join(args), done.stderr.strip()[-500:]))
        return done.stdout

    def add_account(self, database, email, password, role="admin", name="Fault Suite"):
        args = ["users", "add", "--email", email, "--name", name, "--role", role, "--password-stdin"]
        self.cli(database, args, password + "\n")

    def close(self):
        for server in self.servers:
            server.stop()
        if self.failed:
            for server in self.servers:
                tail = server.log_tail()
                # The path is not shown: the scenario's directory is removed right after this.
                print("    %s log%s" % (server.label, " (last %d lines):" % len(tail) if tail else ": empty"))
                for line in tail:
                    print("    | " + line)
            print(flush=True)


class Suite:
    def __init__(self, binary, postgres_admin_url, jwt_secret=None):
        self.binary = binary
        self.postgres_admin_url = postgres_admin_url
        # One secret for the whole run: a server restarted after a crash accepts the tokens the
        # previous one issued, as a real deployment would.
        self.jwt_secret = jwt_secret or secrets.token_urlsafe(48)
        self.root = tempfile.mkdtemp(prefix="masthead-faults.")
        self.results = []
        self._processes = []
        self._databases = []
        self._closers = []
        self._lock = threading.Lock()
        self._counter = 0

    def server_env(self, database, extra):
        # Only what the suite sets: MASTHEAD_* or DATABASE_URL from the caller's environment would
        # change what is measured. The working directory is the scenario's, so no `.env` is read.
        env = {k: v for k, v in os.environ.items() if not (k.startswith("MASTHEAD_") or k == "DATABASE_URL")}
        env.update(
            DATABASE_URL=database.url,
            MASTHEAD_JWT_SECRET=self.jwt_secret,
            MASTHEAD_LOG="warn",
            # Stopped at once between checks (the `shutdown` scenario sets its own drain).
            MASTHEAD_SHUTDOWN_DRAIN_MS="0",
            NO_COLOR="1",
        )
        env.update(extra)
        return env

    def record(self, result):
        with self._lock:
            self.results.append(result)
        verdict = "PASS" if result.ok else "FAIL"
        print("%s  %-9s %-9s %s: %s" % (verdict, result.scenario, result.backend, result.check, result.detail), flush=True)

    def track(self, process):
        with self._lock:
            self._processes.append(process)

    def on_close(self, closer):
        """Registers something to undo at exit (a proxy), in reverse order."""
        self._closers.append(closer)

    @contextlib.contextmanager
    def scope(self, scenario, backend):
        with self._lock:
            self._counter += 1
            serial = self._counter
        directory = os.path.join(self.root, "%02d-%s-%s" % (serial, scenario, backend))
        os.makedirs(directory)
        database = None
        scope = Scope(self, scenario, backend, directory)
        try:
            if backend == "postgres":
                name = "masthead_faults_%d_%d_%s" % (os.getpid(), serial, scenario)
                database = PostgresDatabase(self.postgres_admin_url, name)
                self._databases.append(database)
            else:
                database = SqliteDatabase(directory)
            yield scope, database
        except Exception as error:  # a scenario that could not run is a failed check, not a crash
            detail = str(error)
            if isinstance(error, subprocess.CalledProcessError) and error.stderr:
                detail += ": " + error.stderr.decode("utf-8", "replace").strip()[-300:]
            scope.check("runs to the end", False, "%s: %s" % (type(error).__name__, detail))
            if not isinstance(error, RuntimeError):  # ours say what happened; others need the trace
                print("    " + traceback.format_exc().rstrip().replace("\n", "\n    "), flush=True)
        finally:
            scope.close()
            if database is not None:
                try:
                    database.drop()
                    if database in self._databases:
                        self._databases.remove(database)
                except Exception as error:
                    name = getattr(database, "name", "?")
                    print("warning: could not drop database %s: %s" % (name, error), flush=True)
            shutil.rmtree(directory, ignore_errors=True)

    def close(self):
        """Kills what is still running, drops leftover databases, removes the temporary files."""
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                closer()
        for process in self._processes:
            if process.poll() is None:
                with contextlib.suppress(Exception):
                    process.kill()
                    process.wait(timeout=10)
        for database in self._databases:
            with contextlib.suppress(Exception):
                database.drop()
        shutil.rmtree(self.root, ignore_errors=True)


def exit_on_signals():
    """SIGTERM and SIGHUP end the suite like Ctrl-C does, through the `finally` that cleans up."""

    def interrupt(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


def raise_own_open_files(wanted):
    """The suite itself holds more than 1,024 sockets in `slowbody`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class Recorder:
    """Thread-safe list of replies, with a stop flag for the loops that fill it."""

    replies: list = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, reply, **extra):
        for name, value in extra.items():
            setattr(reply, name, value)
        with self.lock:
            self.replies.append(reply)

    def snapshot(self):
        with self.lock:
            return list(self.replies)


def status_counts(replies):
    """`200 x12, 503 x3, none x1`: how a set of replies ended, for the report."""
    counts = {}
    for reply in replies:
        key = str(reply.status) if reply.status is not None else "none"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join("%s x%d" % (key, counts[key]) for key in sorted(counts)) or "no requests"


def run_threads(count, target, *args):
    threads = [threading.Thread(target=target, args=(index,) + args, daemon=True) for index in range(count)]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads, deadline):
    """Joins threads within `deadline` seconds overall; returns how many are still running."""
    until = now() + deadline
    for thread in threads:
        thread.join(max(0.0, until - now()))
    return sum(thread.is_alive() for thread in threads)
