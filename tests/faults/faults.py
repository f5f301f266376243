#!/usr/bin/env python3
"""Masthead's fault suite: the release binary under hostile or broken conditions.

Each scenario starts real `masthead serve` processes on loopback (SQLite, and PostgreSQL where the
database backend matters), does one unpleasant thing to them and checks that the service degrades
the way an operator needs it to: bounded memory, answers instead of hangs, problems instead of
500s, nothing acknowledged lost. One line per check, PASS or FAIL, with the measured numbers.

    tests/faults/run.sh                          # builds the release binary, runs everything
    FAULTS=bomb,throttle tests/faults/run.sh     # a subset
    FAULT_BACKENDS=sqlite tests/faults/run.sh    # one backend

Thresholds are constants next to each scenario. Standard library only.
"""

import itertools
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import types
import zlib

# The sibling modules, imported without leaving __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    Recorder,
    Suite,
    connect,
    exchange,
    exit_on_signals,
    join_all,
    json_headers,
    LOGIN,
    login,
    login_body,
    ms,
    now,
    percentile,
    raise_own_open_files,
    request,
    run_threads,
    status_counts,
    verify_articles,
)
from backups import backup  # noqa: E402
from shutdown import shutdown  # noqa: E402
from imports import HugeFiles, huge_imports  # noqa: E402
from operations import operations  # noqa: E402
from proxy import CuttableProxy  # noqa: E402

ARTICLES = "/api/v1/articles"


def has_retry_after(reply):
    return bool(reply.headers.get("retry-after", "").strip())


def check_reads_within(scope, what, replies, limit_ms):
    """Every one of these reads answered 200 within `limit_ms`."""
    latencies = [r.seconds for r in replies]
    slow = [r for r in replies if r.status != 200 or r.seconds > limit_ms / 1000.0]
    scope.check(
        "%s answer within %d ms" % (what, limit_ms),
        replies and not slow,
        "%d reads (%s), p50 %s, p99 %s, max %s; %d over %d ms or failed"
        % (len(replies), status_counts(replies), ms(percentile(latencies, 50)), ms(percentile(latencies, 99)),
           ms(max(latencies, default=float("nan"))), len(slow), limit_ms),
    )


# --- 1. bomb: compressed request bodies that decode to gigabytes --------------------------------

BOMB_BR_DECODED = 1 << 30  # 1 GiB of spaces, about 800 bytes as brotli
# gzip cannot compress better than about 1:1000, so 1 GiB would be a 1 MiB body and be refused on
# its encoded size alone; 512 MiB encodes to about 510 KiB, under the default 1 MiB limit.
BOMB_GZ_DECODED = 512 << 20
BOMB_PEAK_MIB = 100
BOMB_CONCURRENT = 4
BOMB_LOAD_SECONDS = 3.0
BOMB_READ_MS = 100


class Bombs:
    """The two bodies, made once per run (a few seconds of CPU) and kept in the suite's directory."""

    def __init__(self, suite):
        self.suite = suite
        self._bodies = None

    def get(self):
        if self._bodies is None:
            self._bodies = self._make()
        return self._bodies

    def _make(self):
        # brotli (the Debian CLI, fed from a pipe: 1 GiB never sits in memory) runs while Python
        # makes the gzip one. Quality 5 reaches the same ~800 bytes as 11, at a twentieth of the time.
        br_path = os.path.join(self.suite.root, "bomb.br")
        with open(br_path, "wb") as out:
            zeros = subprocess.Popen(["head", "-c", str(BOMB_BR_DECODED), "/dev/zero"], stdout=subprocess.PIPE)
            spaces = subprocess.Popen(["tr", "\\000", " "], stdin=zeros.stdout, stdout=subprocess.PIPE)
            brotli = subprocess.Popen(["brotli", "-c", "-q", "5"], stdin=spaces.stdout, stdout=out)
        zeros.stdout.close()
        spaces.stdout.close()
        for process in (zeros, spaces, brotli):
            self.suite.track(process)
        # Z_RLE: runs of one byte are all there is, and RLE finds them ten times faster than level 9.
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 9, zlib.Z_RLE)
        chunk = b" " * (1 << 20)
        parts = [compressor.compress(chunk) for _ in range(BOMB_GZ_DECODED >> 20)]
        parts.append(compressor.flush())
        gz = b"".join(parts)
        if brotli.wait(timeout=300) != 0:
            raise RuntimeError("brotli failed to make the bomb (exit %s)" % brotli.returncode)
        with open(br_path, "rb") as body:
            br = body.read()
        if not 0 < len(br) < 64 * 1024 or len(gz) >= 1 << 20:
            raise RuntimeError("unexpected bomb sizes: br %d bytes, gzip %d bytes" % (len(br), len(gz)))
        # A broken bomb would be refused as malformed and pass for the wrong reason: check that
        # the gzip one starts to decode to spaces (the brotli one by its size only: no decoder in
        # the standard library).
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(gz[:4096], 1 << 20)
        if not head or head.strip(b" "):
            raise RuntimeError("the gzip bomb does not decode to spaces")
        return {"br": br, "gzip": gz}


def send_bomb(server, encoding, body, timeout=60.0):
    headers = [("Content-Type", "application/json"), ("Content-Encoding", encoding)]
    return request(server.port, "POST", LOGIN, body, headers, timeout)


def check_peak(scope, server, what, limit):
    rss, hwm = server.memory()
    return scope.check(
        "%s: peak RSS under %d MiB" % (what, limit), hwm < limit, "VmHWM %.0f MiB, VmRSS now %.0f MiB" % (hwm, rss)
    )


def bomb(scope, database):
    bodies = scope.suite.bombs.get()
    decoded = {"br": "1 GiB", "gzip": "512 MiB"}
    # A server of its own for each part: VmHWM only ever grows, so a shared one would blame the
    # second bomb for the first one's peak.
    for encoding in ("br", "gzip"):
        server = scope.server(database, label="server-" + encoding)
        reply = send_bomb(server, encoding, bodies[encoding])
        scope.check(
            "one %s bomb gets a 413 problem" % encoding,
            reply.status == 413 and reply.is_problem,
            "%s (%s) in %s; a %d-byte body decoding to %s"
            % (reply.describe(), reply.headers.get("content-type", "-"), ms(reply.seconds), len(bodies[encoding]),
               decoded[encoding]),
        )
        check_peak(scope, server, "one %s bomb" % encoding, BOMB_PEAK_MIB)
        server.stop()

    # Bombs from several clients at once, while a reader measures how the public API fares.
    server = scope.server(database, label="server-concurrent")
    server.get(ARTICLES)  # made once, so the reader measures serving, not a cold cache
    reads, bombs = Recorder(), Recorder()

    def reader(_index):
        while not reads.stop.is_set():
            reads.add(server.get(ARTICLES, timeout=10))
            time.sleep(0.02)

    def bomber(index):
        encoding = "br" if index % 2 == 0 else "gzip"
        until = now() + BOMB_LOAD_SECONDS
        for _ in range(100):  # bounded, whatever the server's speed
            if now() >= until:
                break
            bombs.add(send_bomb(server, encoding, bodies[encoding]))

    reader_threads = run_threads(1, reader)
    bomber_threads = run_threads(BOMB_CONCURRENT, bomber)
    stuck = join_all(bomber_threads, BOMB_LOAD_SECONDS + 120)
    reads.stop.set()
    join_all(reader_threads, 15)
    read_replies, bomb_replies = reads.snapshot(), bombs.snapshot()
    check_reads_within(
        scope, "public reads beside %d bombing clients" % BOMB_CONCURRENT, read_replies, BOMB_READ_MS
    )
    refused = [r for r in bomb_replies if r.status == 413 and r.is_problem]
    scope.check(
        "concurrent bombs all get 413 problems",
        bomb_replies and len(refused) == len(bomb_replies) and not stuck,
        "%d bombs (br and gzip) in %.0f s: %s; slowest %s%s"
        % (len(bomb_replies), BOMB_LOAD_SECONDS, status_counts(bomb_replies),
           ms(max((r.seconds for r in bomb_replies), default=float("nan"))),
           "; %d senders still waiting" % stuck if stuck else ""),
    )
    check_peak(scope, server, "%d bombing clients" % BOMB_CONCURRENT, BOMB_PEAK_MIB)


# --- 2. search: expensive searches must not starve cheap reads ----------------------------------

SEARCH_ARTICLES = 10000
SEARCH_CLIENTS = 16
SEARCH_SECONDS = 10.0
SEARCH_TIMEOUT = 30.0
SEARCH_PLAIN_MS = 100
SEARCH_PAUSE = 0.02  # between plain reads: a steady trickle, not a second load


def search(scope, database):
    started = now()
    scope.cli(database, ["demo", "--articles", str(SEARCH_ARTICLES)])
    demo_seconds = now() - started
    server = scope.server(database)

    # Slugs to read one by one: each is read once, so every plain read misses the response cache.
    slugs = []
    for page in range(1, 11):
        reply = server.get("%s?per_page=100&fields=slug&page=%d" % (ARTICLES, page), timeout=30)
        if reply.status != 200:
            raise RuntimeError("listing slugs failed: %s" % reply.describe())
        slugs.extend(item["slug"] for item in json.loads(reply.body)["data"])

    searches, plain = Recorder(), Recorder()
    # Every search asks for a (page, per_page) pair nobody asked for before: never a cache hit.
    combos = itertools.count()

    def searcher(_index):
        while not searches.stop.is_set():
            n = next(combos)
            path = "%s?q=the&sort=relevance&page=%d&per_page=%d" % (ARTICLES, n % 50 + 1, 20 + (n // 50) % 81)
            searches.add(server.get(path, timeout=SEARCH_TIMEOUT))

    def plain_reader(_index):
        for slug in slugs:
            if plain.stop.is_set():
                return
            plain.add(server.get("%s/%s" % (ARTICLES, slug), timeout=SEARCH_TIMEOUT))
            time.sleep(SEARCH_PAUSE)

    search_threads = run_threads(SEARCH_CLIENTS, searcher)
    plain_threads = run_threads(1, plain_reader)
    time.sleep(SEARCH_SECONDS)  # the load's duration, not a synchronisation
    searches.stop.set()
    plain.stop.set()
    stuck = join_all(search_threads + plain_threads, SEARCH_TIMEOUT + 10)

    plain_replies = plain.snapshot()
    check_reads_within(scope, "plain reads under %d searches" % SEARCH_CLIENTS, plain_replies, SEARCH_PLAIN_MS)
    search_replies = searches.snapshot()
    latencies = [r.seconds for r in search_replies]
    acceptable = [r for r in search_replies if r.status == 200 or (r.status == 503 and r.is_problem)]
    scope.check(
        "searches answer 200 or a 503 problem, never 500 or a hang",
        search_replies and len(acceptable) == len(search_replies) and not stuck
        and any(r.status == 200 for r in search_replies),
        "%d searches (%s), p50 %s, p99 %s, max %s; demo content written in %.0f s%s"
        % (len(search_replies), status_counts(search_replies), ms(percentile(latencies, 50)),
           ms(percentile(latencies, 99)), ms(max(latencies, default=float("nan"))), demo_seconds,
           "; %d clients still waiting" % stuck if stuck else ""),
    )


# --- 3. throttle: a burst of guesses must not outrun the failure count -------------------------

THROTTLE_ATTEMPTS = 150
THROTTLE_PER_ACCOUNT = 5  # the default MASTHEAD_LOGIN_MAX_FAILURES_PER_ACCOUNT


def throttle(scope, database):
    email, password = "victim@faults.test", "the-right-password-1"
    scope.add_account(database, email, password)
    server = scope.server(database)
    right = THROTTLE_ATTEMPTS // 2
    barrier = threading.Barrier(THROTTLE_ATTEMPTS)
    attempts = Recorder()

    def attempt(index):
        body = login_body(email, password if index == right else "wrong-password-%d" % index)
        # Connected first, then released together: the requests arrive as one burst.
        sock = connect(server.port, 30)
        with sock:
            barrier.wait(timeout=60)
            attempts.add(exchange(sock, "POST", LOGIN, body, json_headers(), timeout=60), index=index)

    stuck = join_all(run_threads(THROTTLE_ATTEMPTS, attempt), 120)
    replies = attempts.snapshot()
    passed = [r for r in replies if r.status in (200, 401)]
    throttled = [r for r in replies if r.status == 429]
    scope.check(
        "exactly %d of %d concurrent attempts get past the throttle" % (THROTTLE_PER_ACCOUNT, THROTTLE_ATTEMPTS),
        len(passed) == THROTTLE_PER_ACCOUNT and not stuck,
        "%d got past (%s); all: %s"
        % (len(passed), status_counts(passed) if passed else "none", status_counts(replies)),
    )
    proper = [r for r in throttled if r.is_problem and has_retry_after(r)]
    others = [r for r in replies if r.status not in (200, 401, 429)]
    scope.check(
        "the rest are 429 problems with Retry-After",
        len(proper) == len(replies) - len(passed) and not others,
        "%d x 429 (%d problem+json with Retry-After), %d other answers%s"
        % (len(throttled), len(proper), len(others), " (%s)" % status_counts(others) if others else ""),
    )


# --- 4. outage: the database goes away, and comes back ------------------------------------------

OUTAGE_READERS = 8
OUTAGE_BASELINE = 2.0
OUTAGE_CUT = 5.0
OUTAGE_READ_LIMIT = 1.5
OUTAGE_DETECTION = 1.0  # how soon after the cut /readyz must say 503 (the watcher looks every 100 ms)
OUTAGE_READYZ_LIMIT = 1.0
OUTAGE_RECOVERY = 15.0
OUTAGE_AFTER = 2.0


def outage(scope, database):
    scope.cli(database, ["demo", "--articles", "200"])
    proxy = CuttableProxy(database.host, database.port).start()
    scope.suite.on_close(proxy.close)
    try:
        _outage(scope, database, proxy)
    finally:
        proxy.close()


def _outage(scope, database, proxy):
    # No response cache: every read needs the database, so every read shows the outage.
    via_proxy = types.SimpleNamespace(url=database.url_via("127.0.0.1", proxy.port))
    server = scope.server(via_proxy, MASTHEAD_CACHE_BYTES=0)
    reads, probes = Recorder(), Recorder()
    pages = itertools.count()

    def reader(_index):
        while not reads.stop.is_set():
            reads.add(server.get("%s?page=%d" % (ARTICLES, next(pages) % 10 + 1), timeout=30))
            time.sleep(0.02)

    def prober(_index):
        while not probes.stop.is_set():
            probes.add(server.get("/readyz", timeout=30))
            time.sleep(0.1)

    threads = run_threads(OUTAGE_READERS, reader) + run_threads(1, prober)
    time.sleep(OUTAGE_BASELINE)
    cut_at = now()
    cut = proxy.cut()
    time.sleep(OUTAGE_CUT)
    restored_at = now()
    proxy.restore()

    def first_ok(recorder):
        ok = [r for r in recorder.snapshot() if r.started >= restored_at and r.status == 200]
        return min((r.started + r.seconds for r in ok), default=None)

    # Polls what the load threads record, until both a probe and a read have succeeded again.
    recovered_at = None
    while now() < restored_at + OUTAGE_RECOVERY:
        readyz_ok, read_ok = first_ok(probes), first_ok(reads)
        if readyz_ok is not None and read_ok is not None:
            recovered_at = max(readyz_ok, read_ok)
            break
        time.sleep(0.1)
    if recovered_at is not None:
        time.sleep(OUTAGE_AFTER)
    reads.stop.set()
    probes.stop.set()
    stuck = join_all(threads, 40)

    all_reads, all_probes = reads.snapshot(), probes.snapshot()
    before = [r for r in all_reads + all_probes if r.started + r.seconds < cut_at]
    scope.check(
        "baseline: reads and /readyz answer 200 before the cut",
        before and all(r.status == 200 for r in before),
        "%d requests (%s)" % (len(before), status_counts(before)),
    )

    def during(replies):
        return [r for r in replies if cut_at <= r.started < restored_at]

    def unavailable(r):
        return r.status == 503 and r.is_problem and has_retry_after(r)

    # A read that started during the cut may end after the restore and then rightly succeed; one
    # that ended before it can only have been refused. Reads caught in flight by the cut are held
    # to the status rule only (never a 500): part of their time was spent before it.
    cut_reads = during(all_reads)
    in_flight = [r for r in all_reads if r.started < cut_at <= r.started + r.seconds]
    bad = [
        r for r in cut_reads
        if r.seconds >= OUTAGE_READ_LIMIT
        or not (unavailable(r) or (r.status == 200 and r.started + r.seconds >= restored_at))
    ] + [r for r in in_flight if not (r.status == 200 or unavailable(r))]
    latencies = [r.seconds for r in cut_reads]
    scope.check(
        "reads during the cut get 503 problems with Retry-After within %.1f s" % OUTAGE_READ_LIMIT,
        cut_reads and not bad,
        "%d reads (%s), %d with Retry-After, p50 %s, max %s; %d caught in flight (%s); %d connections cut"
        % (len(cut_reads), status_counts(cut_reads), sum(has_retry_after(r) for r in cut_reads),
           ms(percentile(latencies, 50)), ms(max(latencies, default=float("nan"))), len(in_flight),
           status_counts(in_flight), cut),
    )
    # Readiness answers from the server's last look at the database: a probe just after the cut
    # may still say 200, until the watcher notices (within OUTAGE_DETECTION); every later one
    # must say 503. Every probe must answer within the limit, whatever it says.
    cut_probes = during(all_probes)
    bad = [
        r for r in cut_probes
        if r.seconds >= OUTAGE_READYZ_LIMIT
        or not (r.status == 503 or r.started < cut_at + OUTAGE_DETECTION or r.started + r.seconds >= restored_at)
    ]
    latencies = [r.seconds for r in cut_probes]
    detected = min((r.started - cut_at for r in cut_probes if r.status == 503), default=None)
    scope.check(
        "/readyz answers within %.1f s and says 503 within %.1f s of the cut" % (OUTAGE_READYZ_LIMIT, OUTAGE_DETECTION),
        cut_probes and not bad and detected is not None,
        "%d probes (%s), p50 %s, max %s; first 503 %s after the cut"
        % (len(cut_probes), status_counts(cut_probes), ms(percentile(latencies, 50)),
           ms(max(latencies, default=float("nan"))), ms(detected) if detected is not None else "never"),
    )
    if recovered_at is None:
        scope.check("recovers within %.0f s of the restore" % OUTAGE_RECOVERY, False,
                    "no 200 from /readyz and reads after %.0f s (reads after restore: %s)"
                    % (OUTAGE_RECOVERY, status_counts([r for r in all_reads if r.started >= restored_at])))
        return
    after = [r for r in all_reads + all_probes if r.started >= recovered_at]
    scope.check(
        "recovers within %.0f s of the restore, without a restart" % OUTAGE_RECOVERY,
        after and all(r.status == 200 for r in after) and not stuck,
        "/readyz 200 after %.1f s, reads 200 after %.1f s; then %d requests (%s)"
        % (first_ok(probes) - restored_at, first_ok(reads) - restored_at, len(after), status_counts(after)),
    )


# --- 5. crash: kill -9 during writes loses nothing acknowledged ---------------------------------

CRASH_WRITERS = 8
CRASH_WRITE_SECONDS = 3.0
CRASH_ROUNDS = 2


def crash(scope, database):
    email, password = "editor@faults.test", "crash-test-password"
    scope.add_account(database, email, password)
    server = scope.server(database)
    token = login(server, email, password)
    acknowledged = []  # (id, title) of every 201, across rounds
    for round_number in range(1, CRASH_ROUNDS + 1):
        writes = Recorder()

        def writer(index, round_number=round_number):
            for n in itertools.count():
                if writes.stop.is_set():
                    return
                title = "Crash %d writer %d article %d" % (round_number, index, n)
                body = "Written by writer %d before crash %d, number %d.\n\nIt must survive." % (index, round_number, n)
                article = {"title": title, "body_markdown": body}
                reply = server.post_json("/api/v1/admin/articles", article, token, timeout=10)
                writes.add(reply, title=title)
                if reply.status is None:
                    return  # the server is gone

        threads = run_threads(CRASH_WRITERS, writer)
        writes.stop.wait(CRASH_WRITE_SECONDS)  # the writing's duration
        server.kill9()
        writes.stop.set()
        join_all(threads, 20)
        round_acks = []
        for reply in writes.snapshot():
            if reply.status == 201:
                round_acks.append((json.loads(reply.body)["data"]["id"], reply.title))
        acknowledged.extend(round_acks)
        server.start()  # same database, a new process
        missing, wrong = verify_articles(server, token, acknowledged)
        scope.check(
            "crash %d: every acknowledged article survives kill -9" % round_number,
            round_acks and not missing and not wrong,
            "%d acknowledged this round (%s), %d in all; after restart %d missing, %d with another title%s"
            % (len(round_acks), status_counts(writes.snapshot()), len(acknowledged), len(missing), len(wrong),
               "; first missing: id %d (%s)" % missing[0] if missing else ""),
        )


# --- 6. logins: password hashing under load must not take the memory with it -------------------

LOGIN_CLIENTS = 32
LOGIN_SECONDS = 10.0
LOGIN_PEAK_MIB = 160
LOGIN_SETTLED_MIB = 64
LOGIN_SETTLE_DEADLINE = 30.0


def logins(scope, database):
    # Each client its own account and its own loopback address: the throttle counts attempts in
    # progress against their account and address (a password being checked may be a wrong one), so
    # 32 clients sharing either would be throttled, and this scenario is about memory. All 32 hash
    # at full cost.
    password = "a-perfectly-good-password"
    accounts = ["reader%d@faults.test" % i for i in range(LOGIN_CLIENTS)]
    for email in accounts:
        scope.add_account(database, email, password, role="author")
    server = scope.server(database)
    idle_rss, _ = server.memory()
    results = Recorder()

    def client(index):
        body = login_body(accounts[index], password)
        source = "127.0.0.%d" % (10 + index)
        until = now() + LOGIN_SECONDS
        while now() < until:
            results.add(request(server.port, "POST", LOGIN, body, json_headers(), timeout=30, source=source))

    stuck = join_all(run_threads(LOGIN_CLIENTS, client), LOGIN_SECONDS + 60)
    stopped_at = now()
    rss, hwm = server.memory()
    replies = results.snapshot()
    latencies = [r.seconds for r in replies]
    # 503 is a fair answer to more hashing than the server will take on at once; anything else is not.
    scope.check(
        "logins are served (200, or 503 when saturated)",
        any(r.status == 200 for r in replies) and all(r.status in (200, 503) for r in replies) and not stuck,
        "%d logins in %.0f s by %d clients (%s), p50 %s, max %s"
        % (len(replies), LOGIN_SECONDS, LOGIN_CLIENTS, status_counts(replies), ms(percentile(latencies, 50)),
           ms(max(latencies, default=float("nan")))),
    )
    scope.check(
        "peak RSS under %d MiB" % LOGIN_PEAK_MIB,
        hwm < LOGIN_PEAK_MIB,
        "VmHWM %.0f MiB (idle before: %.0f MiB)" % (hwm, idle_rss),
    )
    settled = None
    while now() < stopped_at + LOGIN_SETTLE_DEADLINE:
        rss, _ = server.memory()
        if rss < LOGIN_SETTLED_MIB:
            settled = now() - stopped_at
            break
        time.sleep(0.5)
    scope.check(
        "RSS back under %d MiB within %.0f s" % (LOGIN_SETTLED_MIB, LOGIN_SETTLE_DEADLINE),
        settled is not None,
        ("VmRSS %.0f MiB after %.1f s" % (rss, settled)) if settled is not None
        else "VmRSS still %.0f MiB after %.0f s" % (rss, LOGIN_SETTLE_DEADLINE),
    )


# --- 7. slowbody: a thousand slow uploads must not lock everyone else out -----------------------

SLOW_SOCKETS = 1100
# Loopback addresses they come from: 5 each, under the server's 8 bodies per address at once.
SLOW_SOURCES = 220
SLOW_PER_ADDRESS = 8  # body::BODIES_PER_CLIENT
SLOW_ONE_ADDRESS = 20
SLOW_BODY_TIMEOUT_MS = 3000  # MASTHEAD_BODY_TIMEOUT_MS for this scenario (the default is 10 s)
SLOW_BYTE_INTERVAL = 2.0  # shorter than the deadline: an idle timeout alone never fires
SLOW_MARGIN = 2.0
SLOW_NORMAL_LIMIT = 1.0


class SlowUploads:
    """Many connections, one thread: each sends a login's headers with `Content-Length: 1000`,
    then one byte of body every SLOW_BYTE_INTERVAL seconds, and records how it ended. They come
    from `sources` loopback addresses in turn (127.0.0.`first_source` onwards), as a crowd of
    hosts would: one address may send only a few bodies at once."""

    HEAD = (
        "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n" % LOGIN
    ).encode()

    def __init__(self, port, count, sources=1, first_source=10):
        self.port = port
        self.count = count
        self.sources = ["127.0.0.%d" % (first_source + i) for i in range(sources)]
        self.selector = selectors.DefaultSelector()
        self.sockets = {}  # socket -> state dict
        self.last_head_sent = None

    def open_all(self):
        for index in range(self.count):
            try:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            except OSError as error:
                raise RuntimeError("the suite cannot open %d sockets (%s): raise its hard open-file limit"
                                   % (self.count, error)) from error
            sock.bind((self.sources[index % len(self.sources)], 0))
            sock.setblocking(False)
            state = {"head_sent": None, "next_byte": None, "buffer": b"", "outcome": None, "ended": None}
            code = sock.connect_ex(("127.0.0.1", self.port))
            if code not in (0, 115):  # 115: EINPROGRESS
                state.update(outcome="connect error %d" % code, ended=now())
                sock.close()
                continue
            self.sockets[sock] = state
            self.selector.register(sock, selectors.EVENT_WRITE)

    def _end(self, sock, outcome):
        state = self.sockets[sock]
        if state["outcome"] is None:
            state.update(outcome=outcome, ended=now())
        self.selector.unregister(sock)
        sock.close()

    def _open(self):
        return [s for s, state in self.sockets.items() if state["outcome"] is None]

    def run(self, until):
        """Drives every socket until each has an outcome or `until()` says stop."""
        while self._open() and not until():
            for key, events in self.selector.select(timeout=0.1):
                sock, state = key.fileobj, self.sockets[key.fileobj]
                if state["head_sent"] is None and events & selectors.EVENT_WRITE:
                    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if error:
                        self._end(sock, "connect error %d" % error)
                        continue
                    try:
                        sock.send(self.HEAD + b"{")
                    except OSError as e:
                        self._end(sock, "closed (%s)" % type(e).__name__)
                        continue
                    state["head_sent"] = self.last_head_sent = now()
                    state["next_byte"] = state["head_sent"] + SLOW_BYTE_INTERVAL
                    self.selector.modify(sock, selectors.EVENT_READ)
                elif events & selectors.EVENT_READ:
                    try:
                        data = sock.recv(4096)
                    except OSError as e:
                        self._end(sock, "closed (%s)" % type(e).__name__)
                        continue
                    if not data:
                        self._end(sock, "closed")
                        continue
                    state["buffer"] += data
                    if b"\r\n\r\n" in state["buffer"]:
                        head = state["buffer"].split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
                        status = head.split(None, 2)[1] if len(head.split()) > 1 else "?"
                        problem = "content-type: application/problem+json" in head
                        self._end(sock, "%s%s" % (status, " problem" if problem else ""))
            moment = now()
            for sock in self._open():
                state = self.sockets[sock]
                if state["next_byte"] is not None and state["next_byte"] <= moment:
                    state["next_byte"] += SLOW_BYTE_INTERVAL
                    try:
                        sock.send(b" ")
                    except OSError as e:
                        self._end(sock, "closed (%s)" % type(e).__name__)

    def close_all(self):
        for sock in self._open():
            self._end(sock, "still open")

    def states(self):
        return list(self.sockets.values())


def slowbody(scope, database):
    server = scope.server(database, MASTHEAD_BODY_TIMEOUT_MS=SLOW_BODY_TIMEOUT_MS)
    deadline = SLOW_BODY_TIMEOUT_MS / 1000.0 + SLOW_MARGIN
    normal = Recorder()

    def normal_client(_index):
        while not normal.stop.is_set():
            for path in (ARTICLES, "/readyz"):
                normal.add(server.get(path, timeout=5), path=path)
            time.sleep(0.1)

    slow = SlowUploads(server.port, SLOW_SOCKETS, sources=SLOW_SOURCES)
    started = now()
    threads = run_threads(1, normal_client)
    try:
        slow.open_all()
        # Until every slow socket has ended, or its deadline (counted from its headers) has passed
        # for the last one; a socket whose headers never went out is given the same time from the start.
        slow.run(lambda: now() > (slow.last_head_sent or started) + deadline + 0.5 and now() > started + deadline)
    finally:
        states = slow.states()
        slow.close_all()
        normal.stop.set()
        join_all(threads, 15)

    replies = normal.snapshot()
    bad = [r for r in replies if r.status != 200 or r.seconds > SLOW_NORMAL_LIMIT]
    scope.check(
        "normal requests are served within %.0f s beside %d slow uploads" % (SLOW_NORMAL_LIMIT, SLOW_SOCKETS),
        replies and not bad,
        "%d requests (%s), p50 %s, max %s; %d failed or slow%s"
        % (len(replies), status_counts(replies), ms(percentile([r.seconds for r in replies], 50)),
           ms(max((r.seconds for r in replies), default=float("nan"))), len(bad),
           (": first %s" % bad[0].error) if bad and bad[0].error else ""),
    )
    outcomes = {}
    late = 0
    slowest = None
    for state in states:
        outcome = state["outcome"] or "still open"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if state["head_sent"] is not None and state["ended"] is not None and outcome != "still open":
            took = state["ended"] - state["head_sent"]
            slowest = took if slowest is None else max(slowest, took)
            late += took > deadline
    good = sum(n for outcome, n in outcomes.items() if outcome == "408 problem" or outcome.startswith("closed"))
    scope.check(
        "slow uploads from %d addresses get a 408 problem or are closed within %.0f s" % (SLOW_SOURCES, deadline),
        good == SLOW_SOCKETS and not late,
        "%d sockets: %s; the slowest to end took %s, %d after the deadline"
        % (SLOW_SOCKETS, ", ".join("%s x%d" % item for item in sorted(outcomes.items())),
           "%.1f s" % slowest if slowest is not None else "(none ended)", late),
    )

    # From one address, only a few at once: the others are refused at once (429), so that no one
    # client can hold the server's memory budget for bodies until their deadline.
    crowd = SlowUploads(server.port, SLOW_ONE_ADDRESS, sources=1, first_source=250)
    crowd_started = now()
    try:
        crowd.open_all()
        crowd.run(lambda: now() > crowd_started + deadline + 0.5)
    finally:
        crowd_states = crowd.states()
        crowd.close_all()
    counts = {}
    for state in crowd_states:
        outcome = state["outcome"] or "still open"
        counts[outcome] = counts.get(outcome, 0) + 1
    refused = counts.get("429 problem", 0)
    scope.check(
        "one address sends at most %d bodies at once" % SLOW_PER_ADDRESS,
        refused == SLOW_ONE_ADDRESS - SLOW_PER_ADDRESS and "still open" not in counts,
        "%d slow uploads from one address: %s"
        % (SLOW_ONE_ADDRESS, ", ".join("%s x%d" % item for item in sorted(counts.items()))),
    )


# --- the runner ---------------------------------------------------------------------------------

# Name -> (scenario, backends it runs on). SQLite only where the database plays no part.
SCENARIOS = {
    "bomb": (bomb, ("sqlite",)),
    "search": (search, ("sqlite", "postgres")),
    "throttle": (throttle, ("sqlite", "postgres")),
    "outage": (outage, ("postgres",)),
    "crash": (crash, ("sqlite", "postgres")),
    "logins": (logins, ("sqlite",)),
    "slowbody": (slowbody, ("sqlite",)),
    "imports": (huge_imports, ("sqlite", "postgres")),
    "operations": (operations, ("sqlite", "postgres")),
    "backup": (backup, ("sqlite", "postgres")),
    "shutdown": (shutdown, ("sqlite", "postgres")),
}


def selection(variable, known):
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return list(known)
    chosen = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in known]
    if unknown:
        sys.exit("%s: unknown %s (choose from %s)" % (variable, ", ".join(unknown), ", ".join(known)))
    return chosen


def main():
    repository = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    binary = os.path.abspath(os.environ.get("MASTHEAD_BIN") or os.path.join(repository, "target", "release", "masthead"))
    if not os.access(binary, os.X_OK):
        sys.exit("faults: no masthead binary at %s (set MASTHEAD_BIN or run tests/faults/run.sh)" % binary)
    postgres = os.environ.get("MASTHEAD_TEST_POSTGRES_URL") or "postgres://root@127.0.0.1:5432/postgres"
    scenarios = selection("FAULTS", list(SCENARIOS))
    backends = selection("FAULT_BACKENDS", ["sqlite", "postgres"])
    raise_own_open_files(SLOW_SOCKETS + 1024)
    exit_on_signals()

    suite = Suite(binary, postgres)
    suite.bombs = Bombs(suite)
    suite.huge_files = HugeFiles(suite)
    print("faults: %s against %s" % (", ".join(scenarios), binary), flush=True)
    started = now()
    interrupted = False
    try:
        for name in scenarios:
            scenario, runs_on = SCENARIOS[name]
            for backend in runs_on:
                if backend not in backends:
                    continue
                print("== %s (%s)" % (name, backend), flush=True)
                began = now()
                with suite.scope(name, backend) as (scope, database):
                    scenario(scope, database)
                print("   %.0f s" % (now() - began), flush=True)
    except KeyboardInterrupt:
        interrupted = True
        print("faults: interrupted; cleaning up", flush=True)
    finally:
        suite.close()
    failed = [r for r in suite.results if not r.ok]
    print(
        "faults: %d checks, %d passed, %d failed, in %.0f s"
        % (len(suite.results), len(suite.results) - len(failed), len(failed), now() - started),
        flush=True,
    )
    for result in failed:
        print("  FAIL %s %s: %s" % (result.scenario, result.backend, result.check))
    if interrupted:
        return 130
    return 1 if failed or not suite.results else 0


if __name__ == "__main__":
    sys.exit(main())
