//! Reading a request body within bounds: at most `MASTHEAD_MAX_BODY_BYTES`, counted on the
//! *decoded* bytes as they come out of the decompressor, and within `MASTHEAD_BODY_TIMEOUT_MS`;
//! and all bodies being read at once, together, within a memory budget ([`BodyLimits::new`]):
//! thousands of connections each sending a megabyte would otherwise hold gigabytes. Past the
//! budget a body is refused at once with 503 `busy`. So that one client cannot take the whole
//! budget (a few dozen bodies sent fast, then left hanging until their deadline, would refuse
//! every other write), one client address may send at most [`BODIES_PER_CLIENT`] bodies at once
//! (429 beyond).
//!
//! actix decodes `Content-Encoding` itself, but a whole network chunk at a time, before any limit
//! is looked at: a 1.6 KB brotli body of spaces became a gigabyte in memory before the 413. Here
//! the raw bytes are read first (bounded like any body), then decoded through a reader that stops
//! one byte past the limit. Decoding runs on the worker that reads the request, so at most one
//! body per worker is being decoded at any moment: its memory (up to the limit, plus a brotli
//! window of at most 16 MiB) is bounded by the number of workers, not by the number of clients.

use std::collections::HashMap;
use std::io::Read;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Bodies one client address may be sending at once.
pub const BODIES_PER_CLIENT: u32 = 8;

/// The bounds of every request body, from the configuration (app data, shared by every worker).
#[derive(Clone, Debug)]
pub struct BodyLimits {
    /// Largest body, decoded.
    pub max_bytes: usize,
    /// Longest a body may take to arrive once its headers have.
    pub timeout: Duration,
    /// Whether the client's address comes from `X-Forwarded-For` (`MASTHEAD_TRUST_PROXY`).
    pub trust_proxy: bool,
    /// Bytes of bodies held at once, by every request together: one permit per byte received.
    budget: Arc<Semaphore>,
    /// Bodies being sent, per client address.
    senders: Arc<Mutex<HashMap<String, u32>>>,
}

impl BodyLimits {
    /// The budget is 64 MiB, or twice the largest body if that is more.
    pub fn new(max_bytes: usize, timeout: Duration, trust_proxy: bool) -> Self {
        Self::with_budget(max_bytes, timeout, (64 << 20).max(2 * max_bytes), trust_proxy)
    }

    fn with_budget(max_bytes: usize, timeout: Duration, budget: usize, trust_proxy: bool) -> Self {
        let budget = Arc::new(Semaphore::new(budget));
        Self { max_bytes, timeout, trust_proxy, budget, senders: Arc::default() }
    }

    /// One more body from `client`, or a 429 when it is sending as many as it may.
    fn sender(&self, client: &str) -> Result<Sender, ApiError> {
        let mut senders = self.senders.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let sending = senders.entry(client.to_string()).or_default();
        if *sending >= BODIES_PER_CLIENT {
            return Err(ApiError::TooManyRequests {
                limit: crate::error::Limit::BodiesPerClient,
                detail: format!("at most {BODIES_PER_CLIENT} request bodies may be sent at once from one address"),
                retry_after_seconds: 1,
            });
        }
        *sending += 1;
        Ok(Sender { senders: self.senders.clone(), client: client.to_string() })
    }
}

/// A body being sent by a client (see [`BodyLimits::sender`]); counted until dropped.
struct Sender {
    senders: Arc<Mutex<HashMap<String, u32>>>,
    client: String,
}

impl Drop for Sender {
    fn drop(&mut self) {
        let mut senders = self.senders.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sending) = senders.get_mut(&self.client) {
            *sending -= 1;
            if *sending == 0 {
                senders.remove(&self.client);
            }
        }
    }
}

/// A body read whole, holding its share of the memory budget (and its client's count) until
/// dropped.
pub struct Body {
    pub bytes: Bytes,
    _held: (Option<OwnedSemaphorePermit>, Sender),
}

/// The encodings a body may come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

fn encoding(req: &HttpRequest) -> Result<Encoding, ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let value = value.to_str().unwrap_or("?").trim().to_ascii_lowercase();
    match value.as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        "br" => Ok(Encoding::Brotli),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "unsupported Content-Encoding `{other}`; send identity, gzip or br"
        ))),
    }
}

fn too_large(limits: &BodyLimits) -> ApiError {
    ApiError::PayloadTooLarge(format!("the request body is larger than {} bytes", limits.max_bytes))
}

/// Reads and decodes the whole body of `req`, sent from the address `client`, within `limits`.
pub async fn read(
    req: &HttpRequest,
    payload: &mut Payload,
    limits: &BodyLimits,
    client: &str,
) -> Result<Body, ApiError> {
    let encoding = encoding(req)?;
    // A declared length over the limit is refused before a byte of it is read.
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_bytes as u64) {
        return Err(too_large(limits));
    }
    let sender = limits.sender(client)?;
    let read = read_raw(payload.take(), limits);
    let (raw, budget) = actix_web::rt::time::timeout(limits.timeout, read).await.map_err(|_| {
        ApiError::RequestTimeout(format!("the request body did not arrive within {} ms", limits.timeout.as_millis()))
    })??;
    let bytes = match encoding {
        Encoding::Identity => raw.freeze(),
        Encoding::Gzip => decode(flate2::read::MultiGzDecoder::new(&raw[..]), "gzip", limits)?,
        Encoding::Brotli => decode(brotli_decompressor::Decompressor::new(&raw[..], 4096), "brotli", limits)?,
    };
    Ok(Body { bytes, _held: (budget, sender) })
}

/// The raw bytes of a body, as they arrive, each taken from the budget first.
async fn read_raw(payload: Payload, limits: &BodyLimits) -> Result<(BytesMut, Option<OwnedSemaphorePermit>), ApiError> {
    use actix_web::body::MessageBody;
    let mut stream = actix_web::body::BodyStream::new(payload);
    let mut raw = BytesMut::new();
    let mut held: Option<OwnedSemaphorePermit> = None;
    while let Some(chunk) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        let chunk = chunk.map_err(|error| match error {
            PayloadError::Incomplete(_) => {
                ApiError::ClientClosed("the client closed the connection in the middle of the body".into())
            }
            _ => ApiError::BadRequest(format!("the request body could not be read: {error}")),
        })?;
        if raw.len() + chunk.len() > limits.max_bytes {
            return Err(too_large(limits));
        }
        let permit = u32::try_from(chunk.len())
            .ok()
            .and_then(|bytes| limits.budget.clone().try_acquire_many_owned(bytes).ok())
            .ok_or_else(|| ApiError::Busy("the request bodies being read use all of their memory budget".into()))?;
        match held.as_mut() {
            Some(held) => held.merge(permit),
            None => held = Some(permit),
        }
        raw.extend_from_slice(&chunk);
    }
    Ok((raw, held))
}

/// Reads `decoder` to its end, or to one byte past the limit (then 413).
fn decode(decoder: impl Read, name: &str, limits: &BodyLimits) -> Result<Bytes, ApiError> {
    let mut decoded = Vec::new();
    decoder
        .take(limits.max_bytes as u64 + 1)
        .read_to_end(&mut decoded)
        .map_err(|error| ApiError::BadRequest(format!("the request body is not valid {name}: {error}")))?;
    if decoded.len() > limits.max_bytes {
        return Err(too_large(limits));
    }
    Ok(decoded.into())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn limits() -> BodyLimits {
        BodyLimits::new(1024, Duration::from_secs(1), false)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn decoding_stops_one_byte_past_the_limit() {
        let bomb = gzip(&vec![b' '; 8 * 1024 * 1024]);
        assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
        let error = decode(flate2::read::MultiGzDecoder::new(&bomb[..]), "gzip", &limits()).unwrap_err();
        assert!(matches!(error, ApiError::PayloadTooLarge(_)), "{error:?}");
        let fits = gzip(&[b'x'; 1024]);
        assert_eq!(decode(flate2::read::MultiGzDecoder::new(&fits[..]), "gzip", &limits()).unwrap().len(), 1024);
        let error = decode(flate2::read::MultiGzDecoder::new(&b"not gzip"[..]), "gzip", &limits()).unwrap_err();
        assert!(matches!(error, ApiError::BadRequest(_)), "{error:?}");
    }

    #[actix_web::test]
    async fn bodies_together_stay_within_their_memory_budget() {
        let limits = BodyLimits::with_budget(4096, Duration::from_secs(1), 3000, false);
        let request = |size: usize| actix_web::test::TestRequest::post().set_payload(vec![b'x'; size]).to_http_parts();
        let (req, mut payload) = request(2000);
        let first = read(&req, &mut payload, &limits, "a").await.unwrap();
        assert_eq!(first.bytes.len(), 2000);
        // 2,000 bytes held: another 2,000 do not fit while the first body lives.
        let (req, mut payload) = request(2000);
        let refused = read(&req, &mut payload, &limits, "b").await.err().unwrap();
        assert!(matches!(refused, ApiError::Busy(_)), "{refused:?}");
        drop(first);
        let (req, mut payload) = request(2000);
        assert_eq!(read(&req, &mut payload, &limits, "b").await.unwrap().bytes.len(), 2000);
        assert_eq!(limits.budget.available_permits(), 3000, "every byte is given back");
    }

    #[actix_web::test]
    async fn one_address_sends_a_few_bodies_at_once() {
        let limits = BodyLimits::new(4096, Duration::from_secs(1), false);
        let request = || actix_web::test::TestRequest::post().set_payload("{}").to_http_parts();
        let mut held = Vec::new();
        for _ in 0..BODIES_PER_CLIENT {
            let (req, mut payload) = request();
            held.push(read(&req, &mut payload, &limits, "192.0.2.1").await.unwrap());
        }
        let (req, mut payload) = request();
        let refused = read(&req, &mut payload, &limits, "192.0.2.1").await.err().unwrap();
        assert!(matches!(refused, ApiError::TooManyRequests { .. }), "{refused:?}");
        let (req, mut payload) = request();
        read(&req, &mut payload, &limits, "192.0.2.2").await.expect("another address is not held up");
        held.pop();
        let (req, mut payload) = request();
        read(&req, &mut payload, &limits, "192.0.2.1").await.expect("one body done, one more may come");
        drop(held);
        assert!(limits.senders.lock().unwrap().is_empty(), "nothing is left counted");
    }
}
