"""SIGTERM, as an orchestrator stops a node: it drains first (still answering, `/readyz` 503, every
answer closing its connection), then stops accepting and finishes what started, and exits.
Requests sent on kept-alive connections just after the signal get answers, not a closed socket.
"""

import http.client
import json
import socket
import time

from harness import LOGIN, connect, now, request

KEPT_ALIVE = 20
DRAIN_MS = 1500
GRACE_SECONDS = 5


def ask_on(connections):
    """One GET on each kept-alive connection: how many got which answer."""
    answers = {}
    for conn in connections:
        try:
            conn.request("GET", "/api/v1/articles")
            response = conn.getresponse()
            response.read()
            key = "%d, Connection: %s" % (response.status, response.getheader("connection"))
        except (OSError, http.client.HTTPException) as error:
            key = "no answer (%s)" % type(error).__name__
        answers[key] = answers.get(key, 0) + 1
    return answers


def shutdown(scope, database):
    server = scope.server(database, MASTHEAD_SHUTDOWN_DRAIN_MS=DRAIN_MS, MASTHEAD_SHUTDOWN_GRACE_SECONDS=GRACE_SECONDS)
    kept = []
    for _ in range(KEPT_ALIVE):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", "/api/v1/articles")
        conn.getresponse().read()
        kept.append(conn)
    # A request in progress at the signal: its body's first half is sent now, the rest once the
    # server no longer accepts connections.
    body = json.dumps({"email": "nobody@faults.test", "password": "not-the-password"}).encode()
    slow = connect(server.port, 30)
    head = "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
        LOGIN,
        len(body),
    )
    slow.sendall(head.encode() + body[: len(body) // 2])

    signalled = now()
    server.process.terminate()
    # Half at once (the first may even arrive before the signal is handled), half once /readyz
    # says the node drains: every one answered, and from then on each told to close.
    at_once = ask_on(kept[: KEPT_ALIVE // 2])
    ready = None
    while now() < signalled + DRAIN_MS / 1000:
        ready = request(server.port, "GET", "/readyz")
        if ready.status == 503:
            break
    scope.check(
        "while draining, /readyz answers 503 (load balancers move away)",
        ready is not None and ready.status == 503 and ready.is_problem,
        "%s after %.2f s" % (ready.describe() if ready else "nothing", now() - signalled),
    )
    draining = ask_on(kept[KEPT_ALIVE // 2 :])
    scope.check(
        "requests on kept-alive connections after SIGTERM are answered, and (draining) told to close",
        all(key.startswith("200,") for key in at_once) and draining == {"200, Connection: close": KEPT_ALIVE // 2},
        "at once: %r; draining: %r" % (at_once, draining),
    )

    refused_at = None
    until = signalled + DRAIN_MS / 1000 + 5
    while now() < until:
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
        except OSError:
            refused_at = now() - signalled
            break
        time.sleep(0.05)
    scope.check(
        "after the drain, new connections are refused",
        refused_at is not None and refused_at >= DRAIN_MS / 1000 - 0.1,
        "refused %s" % ("%.2f s after the signal" % refused_at if refused_at is not None else "never"),
    )

    slow.sendall(body[len(body) // 2 :])
    slow.settimeout(10)
    response = http.client.HTTPResponse(slow, method="POST")
    try:
        response.begin()
        response.read()
        finished = "%d, Connection: %s" % (response.status, response.getheader("connection"))
    except (OSError, http.client.HTTPException) as error:
        finished = "no answer (%s)" % type(error).__name__
    scope.check(
        "a request in progress at the signal is finished (its body completed during the grace period)",
        finished == "401, Connection: close",
        finished,
    )
    try:
        code = server.process.wait(timeout=DRAIN_MS / 1000 + GRACE_SECONDS + 5)
    except Exception:  # noqa: BLE001 - reported as the check's failure
        code = None
    took = now() - signalled
    scope.check(
        "the server exits 0 within the drain and the grace period",
        code == 0 and took < DRAIN_MS / 1000 + GRACE_SECONDS + 1,
        "exit status %s after %.2f s" % (code, took),
    )
    for conn in kept:
        conn.close()
    slow.close()
