//! The image formats the library accepts, told apart by their bytes (never by a file name or a
//! `Content-Type`), and each format's container walked to drop what is not pixels: EXIF (GPS
//! included), XMP, comments, text chunks, and anything after the end of the image.
//!
//! Stripping at the container level keeps the pixels exactly as uploaded (no second lossy
//! encoding) and costs almost nothing; the pixels are still decoded in full elsewhere, so a file
//! that only looks right here is refused there.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// An accepted image format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl Format {
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
        }
    }

    /// The file extension of stored objects and URLs.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
        }
    }

    pub fn from_extension(extension: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::Webp, Self::Gif].into_iter().find(|format| format.extension() == extension)
    }

    pub fn from_mime_type(mime_type: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::Webp, Self::Gif].into_iter().find(|format| format.mime_type() == mime_type)
    }

    pub fn image_format(self) -> image::ImageFormat {
        match self {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
            Self::Webp => image::ImageFormat::WebP,
            Self::Gif => image::ImageFormat::Gif,
        }
    }
}

/// The format of `bytes`, or a 415 naming what they are instead.
pub fn sniff(bytes: &[u8]) -> Result<Format, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::invalid("file", "the file is empty"));
    }
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => Ok(Format::Jpeg),
        Ok(image::ImageFormat::Png) => Ok(Format::Png),
        Ok(image::ImageFormat::WebP) => Ok(Format::Webp),
        Ok(image::ImageFormat::Gif) => Ok(Format::Gif),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "the file is {}, not an image this library accepts: upload a JPEG, PNG, WebP or GIF image",
            describe(bytes)
        ))),
    }
}

/// What unaccepted bytes look like, for the 415's message.
fn describe(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(1024)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if text.contains("<svg") {
        return "an SVG image (image/svg+xml), which can carry scripts".into();
    }
    if start.starts_with("<!doctype html") || start.starts_with("<html") || text.contains("<script") {
        return "an HTML document (text/html)".into();
    }
    if let Some(kind) = infer::get(bytes) {
        return format!("{} ({})", kind.extension().to_uppercase(), kind.mime_type());
    }
    if std::str::from_utf8(head).is_ok() {
        return "text (text/plain)".into();
    }
    "of an unrecognised type".into()
}

/// The image without its metadata: the container rewritten with only the segments or chunks
/// that draw pixels (and colour profiles, which change how they look). `Err` with a reason when
/// the container is cut short or malformed.
pub fn strip_metadata(format: Format, bytes: &[u8]) -> Result<Vec<u8>, String> {
    match format {
        Format::Jpeg => strip_jpeg(bytes),
        Format::Png => strip_png(bytes),
        Format::Webp => strip_webp(bytes),
        // GIFs are rewritten frame by frame (`processing`), which drops their extensions.
        Format::Gif => Ok(bytes.to_vec()),
    }
}

/// Whether a PNG or WebP holds an animation (APNG's `acTL`, WebP's `ANIM`), which the library
/// does not take: only GIFs are kept as animations.
pub fn is_animation(format: Format, bytes: &[u8]) -> bool {
    let marker: &[u8] = match format {
        Format::Png => b"acTL",
        Format::Webp => b"ANIM",
        Format::Jpeg | Format::Gif => return false,
    };
    // Both must come before the image data; a false match inside compressed data only refuses
    // an odd still image, never lets an animation through.
    bytes.windows(4).any(|window| window == marker)
}

/// Whether a JPEG segment is kept: the tables, frames and scans, and of the application segments
/// only a JFIF header without a thumbnail, ICC colour profiles and Adobe's colour transform.
/// Everything else (EXIF and XMP in APP1, other APPn, JPGn, comments) goes.
fn keep_jpeg_segment(marker: u8, payload: &[u8]) -> bool {
    match marker {
        // SOFn, DHT, DAC; DQT, DNL, DRI; SOS.
        0xC0..=0xCF | 0xDB..=0xDD | 0xDA => true,
        0xE0 => payload.starts_with(b"JFIF\0") && payload.len() == 14,
        0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
        0xEE => payload.starts_with(b"Adobe"),
        _ => false,
    }
}

/// JPEG: keeps SOI, the segments [`keep_jpeg_segment`] keeps and the scans up to EOI; drops the
/// rest and anything after EOI. A file without EOI after its scans is truncated (decoders
/// quietly paint the missing part grey).
fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, String> {
    const TRUNCATED: &str = "the JPEG file is truncated";
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err("the JPEG file does not start with a JPEG header".into());
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2;
    loop {
        // Markers may be padded with any number of 0xFF bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return Err(TRUNCATED.into());
        };
        if marker == 0xD9 {
            out.extend_from_slice(&[0xFF, 0xD9]);
            return Ok(out);
        }
        let length = match (bytes.get(at + 2), bytes.get(at + 3)) {
            (Some(&high), Some(&low)) => usize::from(high) << 8 | usize::from(low),
            _ => return Err(TRUNCATED.into()),
        };
        let end = at + 2 + length;
        if length < 2 || end > bytes.len() {
            return Err(TRUNCATED.into());
        }
        if keep_jpeg_segment(marker, &bytes[at + 4..end]) {
            out.extend_from_slice(&bytes[at..end]);
        }
        at = end;
        if marker == 0xDA {
            // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte) or a restart marker
            // there; any other marker ends the scan.
            let scan_start = at;
            loop {
                match bytes.get(at) {
                    None => return Err(TRUNCATED.into()),
                    Some(0xFF) => match bytes.get(at + 1) {
                        None => return Err(TRUNCATED.into()),
                        Some(0x00 | 0xD0..=0xD7) => at += 2,
                        Some(_) => break,
                    },
                    Some(_) => at += 1,
                }
            }
            out.extend_from_slice(&bytes[scan_start..at]);
        }
    }
}

/// PNG chunks that draw pixels or say how they look; everything else (text, EXIF, time) is dropped.
const PNG_KEPT: [&[u8; 4]; 11] =
    [b"IHDR", b"PLTE", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"IDAT", b"IEND"];

/// WebP chunks of a still image: its header, pixels, alpha and colour profile. Everything else
/// (EXIF, XMP, unknown chunks) is dropped.
const WEBP_KEPT: [&[u8; 4]; 5] = [b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ICCP"];

fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, String> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(SIGNATURE);
    let mut at = SIGNATURE.len();
    loop {
        let header = bytes.get(at..at + 8).ok_or("the PNG file is truncated")?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let end = at + 12 + length;
        if end > bytes.len() {
            return Err("the PNG file is truncated".into());
        }
        let kind = &header[4..8];
        if PNG_KEPT.iter().any(|kept| kept[..] == *kind) {
            out.extend_from_slice(&bytes[at..end]);
        }
        at = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

/// WebP (RIFF): keeps the chunks of [`WEBP_KEPT`], and clears the EXIF and XMP flags of the VP8X
/// header.
fn strip_webp(bytes: &[u8]) -> Result<Vec<u8>, String> {
    const TRUNCATED: &str = "the WebP file is truncated";
    let declared = bytes.get(4..8).ok_or(TRUNCATED)?;
    let riff_end = 8 + u32::from_le_bytes([declared[0], declared[1], declared[2], declared[3]]) as usize;
    if riff_end > bytes.len() {
        return Err(TRUNCATED.into());
    }
    let mut out = Vec::with_capacity(riff_end);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    let mut at = 12;
    while at < riff_end {
        let header = bytes.get(at..at + 8).ok_or(TRUNCATED)?;
        let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let end = at + 8 + length + (length & 1);
        if end > riff_end {
            return Err(TRUNCATED.into());
        }
        match &header[..4] {
            kind if !WEBP_KEPT.iter().any(|kept| kept[..] == *kind) => {}
            b"VP8X" => {
                let start = out.len();
                out.extend_from_slice(&bytes[at..end]);
                // Flags: bit 3 EXIF, bit 2 XMP.
                if let Some(flags) = out.get_mut(start + 8) {
                    *flags &= !0b0000_1100;
                }
            }
            _ => out.extend_from_slice(&bytes[at..end]),
        }
        at = end;
    }
    let size = u32::try_from(out.len() - 8).map_err(|_| "the WebP file is too large".to_string())?;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_refused_is_named() {
        let named = |bytes: &[u8]| sniff(bytes).unwrap_err().to_string();
        assert!(named(b"<!DOCTYPE html><html><script>alert(1)</script>").contains("HTML"));
        assert!(named(b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\">").contains("SVG"));
        assert!(named(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj").contains("application/pdf"));
        assert!(matches!(sniff(b""), Err(ApiError::Validation(_))));
    }

    #[test]
    fn a_jpeg_without_its_end_is_truncated() {
        // SOI, a comment, SOS with a two-byte header, scan data, no EOI.
        let cut = [0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x04, b'h', b'i', 0xFF, 0xDA, 0x00, 0x02, 1, 2, 0xFF, 0x00, 3];
        assert_eq!(strip_jpeg(&cut).unwrap_err(), "the JPEG file is truncated");
        let mut whole = cut.to_vec();
        whole.extend_from_slice(&[0xFF, 0xD9, b'j', b's']);
        let stripped = strip_jpeg(&whole).unwrap();
        assert_eq!(stripped, [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 1, 2, 0xFF, 0x00, 3, 0xFF, 0xD9]);
    }
}
