"""A webhook receiver for the CI check (tests/contract/webhooks.sh): verifies every delivery with
the reference Standard Webhooks library, answers 204 when valid and 400 when not, and appends one
JSON line per delivery (event type, verdict, headers, raw body) to the log.

    python webhook_receiver.py PORT SECRET_FILE LOG_FILE
"""
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PORT, SECRET_FILE, LOG_FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        with open(SECRET_FILE) as f:
            secret = f.read().strip()
        try:
            Webhook(secret).verify(body, headers)
            verdict = "valid"
        except WebhookVerificationError as error:
            verdict = f"invalid: {error}"
        event = json.loads(body).get("type")
        with open(LOG_FILE, "a") as log:
            log.write(json.dumps({
                "event": event,
                "verdict": verdict,
                "id": headers.get("webhook-id"),
                "timestamp": headers.get("webhook-timestamp"),
                "signature": headers.get("webhook-signature"),
                "body": base64.b64encode(body).decode(),
            }) + "\n")
        self.send_response(204 if verdict == "valid" else 400)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
