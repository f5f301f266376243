//! Reading a request body within bounds: at most `MASTHEAD_MAX_BODY_BYTES`, counted on the
//! *decoded* bytes as they come out of the decompressor, and within `MASTHEAD_BODY_TIMEOUT_MS`.
//!
//! actix decodes `Content-Encoding` itself, but a whole network chunk at a time, before any limit
//! is looked at: a 1.6 KB brotli body of spaces became a gigabyte in memory before the 413. Here
//! the raw bytes are read first (bounded like any body), then decoded through a reader that stops
//! one byte past the limit. Decoding runs on the worker that reads the request, so at most one
//! body per worker is being decoded at any moment: its memory (up to the limit, plus a brotli
//! window of at most 16 MiB) is bounded by the number of workers, not by the number of clients.

use std::io::Read;
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;

use crate::error::ApiError;

/// The bounds of every request body, from the configuration (app data).
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// Largest body, decoded.
    pub max_bytes: usize,
    /// Longest a body may take to arrive once its headers have.
    pub timeout: Duration,
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

/// Reads and decodes the whole body of `req` within `limits`.
pub async fn read(req: &HttpRequest, payload: &mut Payload, limits: BodyLimits) -> Result<Bytes, ApiError> {
    let encoding = encoding(req)?;
    // A declared length over the limit is refused before a byte of it is read.
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_bytes as u64) {
        return Err(too_large(&limits));
    }
    let stream = actix_web::body::BodyStream::new(payload.take());
    let read = actix_web::body::to_bytes_limited(stream, limits.max_bytes);
    let raw = match actix_web::rt::time::timeout(limits.timeout, read).await {
        Err(_) => {
            return Err(ApiError::RequestTimeout(format!(
                "the request body did not arrive within {} ms",
                limits.timeout.as_millis()
            )));
        }
        Ok(Err(_)) => return Err(too_large(&limits)),
        Ok(Ok(Err(error))) => {
            return Err(match error {
                actix_web::error::PayloadError::Incomplete(_) => {
                    ApiError::ClientClosed("the client closed the connection in the middle of the body".into())
                }
                _ => ApiError::BadRequest(format!("the request body could not be read: {error}")),
            });
        }
        Ok(Ok(Ok(raw))) => raw,
    };
    match encoding {
        Encoding::Identity => Ok(raw),
        Encoding::Gzip => decode(flate2::read::MultiGzDecoder::new(&raw[..]), "gzip", &limits),
        Encoding::Brotli => decode(brotli_decompressor::Decompressor::new(&raw[..], 4096), "brotli", &limits),
    }
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

    const LIMITS: BodyLimits = BodyLimits { max_bytes: 1024, timeout: Duration::from_secs(1) };

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn decoding_stops_one_byte_past_the_limit() {
        let bomb = gzip(&vec![b' '; 8 * 1024 * 1024]);
        assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
        let error = decode(flate2::read::MultiGzDecoder::new(&bomb[..]), "gzip", &LIMITS).unwrap_err();
        assert!(matches!(error, ApiError::PayloadTooLarge(_)), "{error:?}");
        let fits = gzip(&[b'x'; 1024]);
        assert_eq!(decode(flate2::read::MultiGzDecoder::new(&fits[..]), "gzip", &LIMITS).unwrap().len(), 1024);
        let error = decode(flate2::read::MultiGzDecoder::new(&b"not gzip"[..]), "gzip", &LIMITS).unwrap_err();
        assert!(matches!(error, ApiError::BadRequest(_)), "{error:?}");
    }
}
