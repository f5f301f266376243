//! A TCP proxy on loopback, for tests of a database that goes away and comes back.

/// A TCP proxy on loopback in front of the PostgreSQL server of `MASTHEAD_TEST_POSTGRES_URL`, that
/// a test can cut (every forwarded connection closed, new ones closed as soon as made) and restore: a database
/// that goes away and comes back, as the application sees it.
pub struct TcpProxy {
    shared: std::sync::Arc<ProxyShared>,
}

struct ProxyShared {
    port: u16,
    target: String,
    open: std::sync::atomic::AtomicBool,
    stopped: std::sync::atomic::AtomicBool,
    forwarded: std::sync::Mutex<Vec<std::net::TcpStream>>,
}

impl TcpProxy {
    /// A proxy to the host and port of `url` (a `postgres://` URL).
    pub fn start(url: &str) -> Self {
        let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
        let authority = authority.split(['/', '?']).next().unwrap_or(authority);
        let target = authority.rsplit_once('@').map_or(authority, |(_, host)| host).to_string();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let shared = std::sync::Arc::new(ProxyShared {
            port: listener.local_addr().unwrap().port(),
            target,
            open: true.into(),
            stopped: false.into(),
            forwarded: Default::default(),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || accept(listener, accepting));
        Self { shared }
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url(&self, url: &str) -> String {
        url.replacen(&self.shared.target, &format!("127.0.0.1:{}", self.shared.port), 1)
    }

    /// Closes every forwarded connection, and new ones as soon as they are made.
    pub fn cut(&self) {
        use std::sync::atomic::Ordering;
        // Under the lock that new connections are added under: none slips in after the drain.
        let mut forwarded = self.shared.forwarded.lock().unwrap();
        self.shared.open.store(false, Ordering::SeqCst);
        for stream in forwarded.drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Accepts and forwards connections again.
    pub fn restore(&self) {
        self.shared.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
        self.cut();
        // Wakes the accepting thread, which then sees that it is stopped.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.shared.port));
    }
}

/// Accepts and forwards while open; while cut, accepts and closes at once (the port stays this
/// proxy's, so that nothing else can take it in between).
fn accept(listener: std::net::TcpListener, shared: std::sync::Arc<ProxyShared>) {
    use std::sync::atomic::Ordering;
    for client in listener.incoming() {
        if shared.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let Ok(server) = std::net::TcpStream::connect(&shared.target) else { continue };
        let mut forwarded = shared.forwarded.lock().unwrap();
        if !shared.open.load(Ordering::SeqCst) {
            let _ = client.shutdown(std::net::Shutdown::Both);
            continue;
        }
        for (from, to) in [(&client, &server), (&server, &client)] {
            let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from, &mut to);
                let _ = to.shutdown(std::net::Shutdown::Both);
            });
        }
        forwarded.extend([client, server]);
    }
}
