"""The API as the benchmark scripts drive it: JSON calls, logins and the peer load's article body.

Imported by the Python the scripts run from the repository's root (`sys.path` has `bench`)."""

import json
import urllib.request

# About 2.5 KB of Markdown in five paragraphs, as the peer benchmark's articles.
PARAGRAPH = "A paragraph of an article, with *emphasis*, a [link](https://example.com/) and `code`. " * 6
BODY = "\n\n".join([PARAGRAPH] * 5)


def call(base, method, path, body=None, token=None):
    """One API call; its decoded JSON answer (None for a 204)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, method=method, data=data)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer) if answer.status != 204 else None


def login(base, email, password):
    """An access token for this account."""
    return call(base, "POST", "/auth/login", {"email": email, "password": password})["access_token"]
