//! Image work: checking an upload before and while it is decoded, storing it without metadata and
//! the right way up, and rendering the declared variants. Everything here is CPU-bound and runs on
//! threads of their own, of low priority, a few images at a time (`http::state::MediaFiles`).

use std::io::Cursor;

use fast_image_resize as fr;
use image::{DynamicImage, ImageDecoder, ImageReader};

use super::formats::{self, Format};
use crate::error::ApiError;

/// Frames an animated GIF may have, whatever their size: each costs a decode and a copy.
pub const MAX_FRAMES: usize = 1000;
/// The most memory one GIF frame's data may take while it is copied.
const GIF_FRAME_MEMORY: std::num::NonZeroU64 = std::num::NonZeroU64::new(64 << 20).unwrap();
/// The longest side libwebp encodes.
pub const MAX_WEBP_SIDE: u32 = 16383;
/// JPEG quality of re-encoded originals (rotated ones) and of variants.
const JPEG_QUALITY: u8 = 85;
/// Lossy WebP quality of variants (libwebp's scale), about as sharp as JPEG at 85.
const WEBP_QUALITY: f32 = 80.0;

/// An upload checked and cleaned, ready to store.
pub struct Cleaned {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// More than one frame: stored as uploaded (metadata dropped), without variants.
    pub animated: bool,
}

fn corrupt(reason: impl std::fmt::Display) -> ApiError {
    ApiError::invalid("file", format!("the image cannot be read: {reason}"))
}

fn too_many_pixels(width: u64, height: u64, frames: u64, max_pixels: u64) -> ApiError {
    let what = if frames > 1 {
        format!("{width} × {height} pixels × {frames} frames")
    } else {
        format!("{width} × {height} pixels")
    };
    ApiError::invalid("file", format!("the image is too large: {what}, more than the {max_pixels} pixels allowed"))
}

/// Checks an upload and returns what to store: the type from its bytes (415), its dimensions
/// from its header before any pixel is decoded (422 past `max_pixels`, so decompression bombs
/// never reach the decoder), every pixel decoded (422 when truncated or corrupt), metadata
/// stripped, and EXIF orientation applied.
pub fn clean(bytes: &[u8], max_pixels: u64) -> Result<Cleaned, ApiError> {
    let format = formats::sniff(bytes)?;
    let (width, height) = reader(bytes, format, max_pixels).into_dimensions().map_err(corrupt)?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(too_many_pixels(width.into(), height.into(), 1, max_pixels));
    }
    if format == Format::Gif {
        return clean_gif(bytes, width, height, max_pixels);
    }
    if formats::is_animation(format, bytes) {
        return Err(ApiError::invalid(
            "file",
            "animated PNG and WebP images are not accepted; upload an animation as a GIF",
        ));
    }
    // The orientation is in the metadata about to go; the pixels checked are those stored.
    let orientation = reader(bytes, format, max_pixels)
        .into_decoder()
        .and_then(|mut decoder| decoder.orientation())
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let stripped = formats::strip_metadata(format, bytes).map_err(corrupt)?;
    let mut decoder = reader(&stripped, format, max_pixels).into_decoder().map_err(corrupt)?;
    let icc_profile = decoder.icc_profile().ok().flatten();
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    if orientation == image::metadata::Orientation::NoTransforms {
        return Ok(Cleaned { bytes: stripped, format, width, height, animated: false });
    }
    // The pixels turned the right way up, then encoded again: the only lossy step, taken only
    // for photos that need it.
    pixels.apply_orientation(orientation);
    let bytes = encode(&pixels, format, icc_profile)?;
    Ok(Cleaned { bytes, format, width: pixels.width(), height: pixels.height(), animated: false })
}

/// A reader of `bytes` as `format`, refusing (inside the decoder too) more pixels than allowed.
fn reader(bytes: &[u8], format: Format, max_pixels: u64) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = image::Limits::default();
    // Four bytes a pixel, twice: the decoded image and a working copy.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).max(64 << 20));
    reader.limits(limits);
    reader
}

/// A GIF decoder that hands out frames still compressed, and refuses frames outside the logical
/// screen (whose size is what the pixel limit was checked against).
fn gif_frames(bytes: &[u8]) -> Result<gif::Decoder<Cursor<&[u8]>>, ApiError> {
    let mut options = gif::DecodeOptions::new();
    options.skip_frame_decoding(true);
    options.check_frame_consistency(true);
    options.set_memory_limit(gif::MemoryLimit::Bytes(GIF_FRAME_MEMORY));
    options.read_info(Cursor::new(bytes)).map_err(corrupt)
}

/// A GIF rewritten frame by frame from its compressed data (nothing is re-encoded): comments,
/// XMP and other extensions are left behind, the loop count kept. Frames are counted before any
/// is copied, so an animation's frames × pixels stays within the limit too.
fn clean_gif(bytes: &[u8], width: u32, height: u32, max_pixels: u64) -> Result<Cleaned, ApiError> {
    let mut counting = gif_frames(bytes)?;
    let mut frames = 0u64;
    while counting.next_frame_info().map_err(corrupt)?.is_some() {
        frames += 1;
        if frames as usize > MAX_FRAMES {
            return Err(ApiError::invalid("file", format!("the animation has more than {MAX_FRAMES} frames")));
        }
        if frames * u64::from(width) * u64::from(height) > max_pixels {
            return Err(too_many_pixels(width.into(), height.into(), frames, max_pixels));
        }
    }
    if frames == 0 {
        return Err(corrupt("the GIF has no frames"));
    }
    let mut decoder = gif_frames(bytes)?;
    let palette = decoder.global_palette().unwrap_or_default().to_vec();
    let mut out = Vec::with_capacity(bytes.len());
    let mut encoder = gif::Encoder::new(&mut out, decoder.width(), decoder.height(), &palette).map_err(corrupt)?;
    // Before the first frame, where every decoder looks for it.
    if frames > 1 {
        encoder.set_repeat(decoder.repeat()).map_err(corrupt)?;
    }
    while let Some(frame) = decoder.read_next_frame().map_err(corrupt)? {
        encoder.write_lzw_pre_encoded_frame(frame).map_err(corrupt)?;
    }
    drop(encoder);
    // The first frame decoded in full, within the limits: a GIF whose pixels cannot be read is
    // refused. (Later frames are copied as they are; a browser shows what it can of them.)
    let first = reader(&out, Format::Gif, max_pixels).into_decoder().map_err(corrupt)?;
    DynamicImage::from_decoder(first).map_err(corrupt)?;
    Ok(Cleaned { bytes: out, format: Format::Gif, width, height, animated: frames > 1 })
}

/// `pixels` in `format`, keeping the colour profile where the format takes one (JPEG, PNG), so
/// that wide-gamut photos keep their colours. JPEG has no alpha: transparent pixels go onto
/// white, not black.
fn encode(pixels: &DynamicImage, format: Format, icc_profile: Option<Vec<u8>>) -> Result<Vec<u8>, ApiError> {
    use image::ImageEncoder;
    let failed = |e: String| ApiError::Internal(format!("encoding a {} image failed: {e}", format.extension()));
    let mut out = Vec::new();
    match format {
        Format::Jpeg => {
            let rgb = flatten(pixels);
            let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
            if let Some(profile) = icc_profile {
                let _ = encoder.set_icc_profile(profile);
            }
            rgb.write_with_encoder(encoder).map_err(|e| failed(e.to_string()))?;
        }
        Format::Png => {
            let mut encoder = image::codecs::png::PngEncoder::new(&mut out);
            if let Some(profile) = icc_profile {
                let _ = encoder.set_icc_profile(profile);
            }
            pixels.write_with_encoder(encoder).map_err(|e| failed(e.to_string()))?;
        }
        Format::Gif => {
            pixels.write_to(&mut Cursor::new(&mut out), format.image_format()).map_err(|e| failed(e.to_string()))?;
        }
        Format::Webp => {
            let (width, height) = (pixels.width(), pixels.height());
            let (rgba, rgb);
            let encoder = if pixels.color().has_alpha() {
                rgba = pixels.to_rgba8();
                webp::Encoder::from_rgba(&rgba, width, height)
            } else {
                rgb = pixels.to_rgb8();
                webp::Encoder::from_rgb(&rgb, width, height)
            };
            let memory = encoder.encode_simple(false, WEBP_QUALITY).map_err(|e| failed(format!("{e:?}")))?;
            out.extend_from_slice(&memory);
        }
    }
    Ok(out)
}

/// RGB, with any transparency composed over white.
fn flatten(pixels: &DynamicImage) -> DynamicImage {
    if !pixels.color().has_alpha() {
        return DynamicImage::ImageRgb8(pixels.to_rgb8());
    }
    let mut rgba = pixels.to_rgba8();
    for pixel in rgba.pixels_mut() {
        let alpha = u16::from(pixel[3]);
        for channel in 0..3 {
            pixel[channel] = ((u16::from(pixel[channel]) * alpha + 255 * (255 - alpha)) / 255) as u8;
        }
    }
    DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba).to_rgb8())
}

/// The stored original `bytes` (already clean) at `width` pixels wide (`None`: its own width), in
/// `format`, within the same decoding limits as uploads.
pub fn render_variant(
    bytes: &[u8],
    source: Format,
    width: Option<u32>,
    format: Format,
    max_pixels: u64,
) -> Result<Vec<u8>, ApiError> {
    let unreadable = |e: image::ImageError| ApiError::Internal(format!("a stored original does not decode: {e}"));
    let mut decoder = reader(bytes, source, max_pixels).into_decoder().map_err(unreadable)?;
    let icc_profile = decoder.icc_profile().ok().flatten();
    let decoded = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    // 8 bits a channel, so that every encoder takes it and the resizer has one pixel type per case.
    let source_pixels = if decoded.color().has_alpha() {
        DynamicImage::ImageRgba8(decoded.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(decoded.to_rgb8())
    };
    drop(decoded);
    let width = width.unwrap_or(source_pixels.width());
    let height = ((u64::from(source_pixels.height()) * u64::from(width)).div_ceil(u64::from(source_pixels.width())))
        .max(1) as u32;
    let resized = if width >= source_pixels.width() {
        source_pixels
    } else {
        let mut resized = DynamicImage::new(width, height, source_pixels.color());
        let options = fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
        fr::Resizer::new()
            .resize(&source_pixels, &mut resized, &options)
            .map_err(|e| ApiError::Internal(format!("resizing failed: {e}")))?;
        resized
    };
    if format == Format::Webp && resized.width().max(resized.height()) > MAX_WEBP_SIDE {
        return Err(ApiError::BadRequest(format!(
            "WebP images are at most {MAX_WEBP_SIDE} pixels on a side; ask for a narrower width or the original format"
        )));
    }
    encode(&resized, format, icc_profile)
}
