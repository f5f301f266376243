"""A TCP forwarder on loopback that can lose the database on demand.

`cut()` is what a database failover or a network partition looks like to Masthead: every
connection it had is closed under it, and new ones are refused (the listening socket is gone,
so a connect gets ECONNREFUSED at once). `restore()` listens again on the same port, so the
`DATABASE_URL` Masthead was started with works again without a restart.
"""

import socket
import threading


class CuttableProxy:
    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.port = None
        self._listener = None
        self._pairs = set()
        self._lock = threading.Lock()
        self._up = False

    def start(self):
        self._listen(0)
        return self

    def _listen(self, port):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # The port is taken again after a cut, while the cut connections sit in TIME_WAIT.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
            self._up = True
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was shut by cut() or close()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = (client, upstream)
            with self._lock:
                if not self._up:
                    # Cut between accept() and here: this one is lost too.
                    _close_pair(pair)
                    return
                self._pairs.add(pair)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(pair, source, sink), daemon=True).start()

    def _pump(self, pair, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        # Either side ending ends the forwarded connection, as a real network path would.
        with self._lock:
            self._pairs.discard(pair)
        _close_pair(pair)

    def cut(self):
        """Closes every forwarded connection and stops listening; returns how many were cut."""
        with self._lock:
            self._up = False
            listener, self._listener = self._listener, None
            pairs, self._pairs = list(self._pairs), set()
        if listener is not None:
            _shut(listener)
        for pair in pairs:
            _close_pair(pair)
        return len(pairs)

    def restore(self):
        """Listens again on the same port."""
        self._listen(self.port)

    def close(self):
        self.cut()


def _shut(sock):
    # shutdown() first: it wakes a thread blocked in recv() or accept() on this socket, which a
    # close() from another thread does not do reliably.
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _close_pair(pair):
    for sock in pair:
        _shut(sock)
