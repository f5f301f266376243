"""What an operator sees of a running server: JSON log lines for every event (with the request id,
route, status, latency and account of each request), request ids taken from clients, and metrics
that `promtool check metrics` accepts and that a real Prometheus scrapes and queries.
"""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

from harness import LOGIN, encode_request, free_port, json_headers, login, now, request

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PROMETHEUS_DEADLINE = 60.0


def wait_for(check, deadline):
    """`check()`'s first true value, tried every 100 ms until the deadline; else None."""
    until = now() + deadline
    while now() < until:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return None


def log_lines(server):
    with open(server.log_path, "rb") as log:
        return log.read().decode("utf-8", "replace").splitlines()


def request_line(lines, request_id):
    """The parsed request line (target masthead::http) of this request id, if logged yet."""
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("target") == "masthead::http" and event.get("request_id") == request_id:
            return event
    return None


def operations(scope, database):
    email, password = "operator@faults.test", "the-right-password-1"
    scope.add_account(database, email, password)
    metrics_port = free_port()
    server = scope.server(
        database,
        MASTHEAD_LOG="info",
        MASTHEAD_LOG_FORMAT="json",
        MASTHEAD_METRICS_ADDR="127.0.0.1:%d" % metrics_port,
    )
    check_logs_and_request_ids(scope, server, email, password)
    check_metrics(scope, server, metrics_port)


def check_logs_and_request_ids(scope, server, email, password):
    plain = request(server.port, "GET", "/api/v1/articles", headers=[("X-Request-Id", "ops-plain")])
    traced = request(
        server.port, "GET", "/api/v1/tags", headers=[("traceparent", "00-%s-00f067aa0ba902b7-01" % TRACE_ID)]
    )
    scope.check(
        "a client's X-Request-Id, or its traceparent's trace id, is echoed",
        plain.headers.get("x-request-id") == "ops-plain" and traced.headers.get("x-request-id") == TRACE_ID,
        "X-Request-Id answered: %r and %r" % (plain.headers.get("x-request-id"), traced.headers.get("x-request-id")),
    )
    token = login(server, email, password)
    request(server.port, "GET", "/api/v1/admin/articles", headers=json_headers(token) + [("X-Request-Id", "ops-admin")])
    # A client that sends half a body, then goes away.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = encode_request("POST", LOGIN, b"", json_headers() + [("X-Request-Id", "ops-gone")])
        sock.sendall(head.replace(b"Content-Length: 0", b"Content-Length: 100") + b'{"email":')
        sock.shutdown(socket.SHUT_RDWR)

    def logged():
        lines = log_lines(server)
        return lines if request_line(lines, "ops-gone") else None

    lines = wait_for(logged, 10) or log_lines(server)
    events, unparsed = [], []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            unparsed.append(line)
    missing = [e for e in events if not all(k in e for k in ("timestamp", "level", "target"))]
    scope.check(
        "every log line is one JSON object with timestamp, level and target",
        events and not unparsed and not missing,
        "%d lines; not JSON: %r; without the fields: %r" % (len(lines), unparsed[:2], missing[:2]),
    )
    traced_line = request_line(lines, TRACE_ID) or {}
    expected = {
        "method": "GET",
        "path": "/api/v1/tags",
        "route": "/api/v1/tags",
        "status": 200,
        "request_id": TRACE_ID,
    }
    scope.check(
        "a request's line has its method, path, route template, status, latency and request id",
        all(traced_line.get(k) == v for k, v in expected.items())
        and isinstance(traced_line.get("latency_ms"), (int, float))
        and traced_line.get("span", {}).get("request_id") == TRACE_ID,
        "line: %r" % traced_line,
    )
    admin_line = request_line(lines, "ops-admin") or {}
    scope.check(
        "an editor's request names the account and the route template",
        isinstance(admin_line.get("account_id"), int) and admin_line.get("route") == "/api/v1/admin/articles",
        "line: %r" % admin_line,
    )
    gone_line = request_line(lines, "ops-gone") or {}
    scope.check(
        "a client that went away is logged as such (499), not as answered",
        gone_line.get("status") == 499 and "closed the connection" in gone_line.get("message", ""),
        "line: %r" % gone_line,
    )


def check_metrics(scope, server, metrics_port):
    scraped = request(metrics_port, "GET", "/metrics")
    elsewhere = request(metrics_port, "GET", "/api/v1/articles")
    on_api = request(server.port, "GET", "/metrics")
    scope.check(
        "the metrics listener serves /metrics and nothing else; the API has none without a token",
        scraped.status == 200 and elsewhere.status == 404 and on_api.status == 404,
        "metrics listener: %s, its /api/v1/articles: %s, the API's /metrics: %s"
        % (scraped.status, elsewhere.status, on_api.status),
    )
    promtool = subprocess.run(["promtool", "check", "metrics"], input=scraped.body, capture_output=True, timeout=60)
    scope.check(
        "promtool check metrics accepts the scrape",
        promtool.returncode == 0,
        (promtool.stdout + promtool.stderr).decode("utf-8", "replace")[:500],
    )
    check_prometheus(scope, server, metrics_port)


def check_prometheus(scope, server, metrics_port):
    directory = os.path.join(scope.directory, "prometheus")
    os.makedirs(directory)
    config = os.path.join(directory, "prometheus.yml")
    with open(config, "w") as out:
        out.write(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: masthead\n    static_configs:\n"
            "      - targets: ['127.0.0.1:%d']\n" % metrics_port
        )
    port = free_port()
    with open(os.path.join(directory, "prometheus.log"), "wb") as log:
        process = subprocess.Popen(
            [
                shutil.which("prometheus") or "/usr/bin/prometheus",
                "--config.file=" + config,
                "--storage.tsdb.path=" + os.path.join(directory, "data"),
                "--web.listen-address=127.0.0.1:%d" % port,
            ],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    scope.suite.track(process)
    try:
        api = "http://127.0.0.1:%d/api/v1/" % port

        def ask(path):
            # Reads come in while Prometheus scrapes, so that the rate has something to count.
            request(server.port, "GET", "/api/v1/articles")
            try:
                with urllib.request.urlopen(api + path, timeout=2) as answer:
                    return json.load(answer)["data"]
            except (OSError, ValueError, KeyError):
                return None

        def target_up():
            targets = (ask("targets") or {}).get("activeTargets", [])
            return targets if targets and targets[0].get("health") == "up" else None

        targets = wait_for(target_up, PROMETHEUS_DEADLINE)
        scope.check("Prometheus scrapes the metrics listener: the target is up", targets, "targets: %r" % targets)
        query = 'sum(rate(masthead_http_request_duration_seconds_count{route="/api/v1/articles"}[5s]))'

        def rate():
            result = (ask("query?" + urllib.parse.urlencode({"query": query})) or {}).get("result", [])
            return result if result and float(result[0]["value"][1]) > 0 else None

        result = wait_for(rate, PROMETHEUS_DEADLINE)
        scope.check("Prometheus answers a request-rate query with a value", result, "%s: %r" % (query, result))
    finally:
        process.terminate()
        process.wait(timeout=30)
