//! Files for the media tests, made here byte by byte: real images, images carrying metadata, and
//! the hostile files the library must refuse.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage, RgbaImage};

/// A gradient, so that resizing and encoding have something to work on.
fn gradient(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128]))
}

pub fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).expect("the test image encodes");
    out
}

pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encoded(DynamicImage::ImageRgb8(gradient(width, height)), ImageFormat::Jpeg)
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let rgba = RgbaImage::from_fn(width, height, |x, y| image::Rgba([(x % 256) as u8, (y % 256) as u8, 200, 180]));
    encoded(DynamicImage::ImageRgba8(rgba), ImageFormat::Png)
}

/// The GPS latitude 48° 51′ 24″ as EXIF stores it (three big-endian rationals): the bytes that
/// must not survive anywhere in what is stored.
pub const GPS_LATITUDE: [u8; 24] = [0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 51, 0, 0, 0, 1, 0, 0, 0x09, 0x60, 0, 0, 0, 100];

/// A JPEG whose EXIF says where it was taken (GPS) and how to turn it (`orientation`: 1 upright,
/// 6 turned a quarter clockwise).
pub fn jpeg_with_exif(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
    // IFD0 at 8: Orientation, and the pointer to the GPS IFD at 38.
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    // The GPS IFD at 38: latitude reference `N`, and the latitude at 68.
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 68]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(&GPS_LATITUDE);
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    let plain = jpeg(width, height);
    [&plain[..2], &segment, &plain[2..]].concat()
}

/// A JPEG with a comment segment (a script, say) and an APP13 (Photoshop IPTC) segment.
pub fn jpeg_with_comment(text: &str) -> Vec<u8> {
    let plain = jpeg(40, 30);
    let segment = |marker: u8, payload: &[u8]| {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    };
    let comment = segment(0xFE, text.as_bytes());
    let iptc = segment(0xED, [b"Photoshop 3.0\0".as_slice(), text.as_bytes()].concat().as_slice());
    [&plain[..2], &comment, &iptc, &plain[2..]].concat()
}

/// An animated PNG's marker (`acTL`) in an otherwise still PNG.
pub fn apng() -> Vec<u8> {
    let plain = png(8, 8);
    let data = [0, 0, 0, 2, 0, 0, 0, 0];
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    let kind_and_data = [b"acTL".as_slice(), &data].concat();
    chunk.extend_from_slice(&kind_and_data);
    chunk.extend_from_slice(&crc32(&kind_and_data).to_be_bytes());
    [&plain[..33], &chunk, &plain[33..]].concat()
}

/// A GIF whose logical screen is 1 × 1 and whose one frame says it is 60,000 × 60,000: a bomb
/// that only the frame's own header shows.
pub fn gif_with_a_giant_frame() -> Vec<u8> {
    let mut out = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
    out.extend_from_slice(&[0x2C, 0, 0, 0, 0, 0x60, 0xEA, 0x60, 0xEA, 0]);
    out.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00, 0x3B]);
    out
}

/// A PNG carrying a text chunk.
pub fn png_with_text(width: u32, height: u32, text: &str) -> Vec<u8> {
    let plain = png(width, height);
    // After the signature (8) and IHDR (25 bytes).
    let mut chunk = Vec::new();
    let data = [b"Comment\0".as_slice(), text.as_bytes()].concat();
    chunk.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let kind_and_data = [b"tEXt".as_slice(), &data].concat();
    chunk.extend_from_slice(&kind_and_data);
    chunk.extend_from_slice(&crc32(&kind_and_data).to_be_bytes());
    [&plain[..33], &chunk, &plain[33..]].concat()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

/// A valid PNG header declaring `width` × `height` pixels, with one tiny IDAT: a decompression
/// bomb's header.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let kind_and_data = [kind, data].concat();
        out.extend_from_slice(&kind_and_data);
        out.extend_from_slice(&crc32(&kind_and_data).to_be_bytes());
    };
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(b"IHDR", &header);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

/// An animated GIF of `frames` 8 × 8 frames.
pub fn animated_gif(frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette = [0, 0, 0, 255, 255, 255];
        let mut encoder = gif::Encoder::new(&mut out, 8, 8, &palette).unwrap();
        encoder.set_repeat(gif::Repeat::Infinite).unwrap();
        for index in 0..frames {
            let mut frame = gif::Frame::from_indexed_pixels(8, 8, vec![(index % 2) as u8; 64], None);
            frame.delay = 2;
            encoder.write_frame(&frame).unwrap();
        }
    }
    out
}

/// A GIF that is also JavaScript: `GIF89a/*…*/=alert(document.domain);`. Its logical screen's
/// width is the bytes `/*`, and the script closes the comment after the image data.
pub fn gif_javascript_polyglot() -> Vec<u8> {
    let mut out = b"GIF89a/*\x0a\x00\x00\x00\x00".to_vec();
    // One 1 × 1 image with a two-colour local palette.
    out.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0x80, 0, 0, 0, 255, 255, 255]);
    out.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00]);
    out.extend_from_slice(b"*/=alert(document.domain);");
    out
}

pub const SVG_WITH_SCRIPT: &str = r#"<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>"#;

pub const HTML_PAGE: &str = "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>";

/// A `multipart/form-data` body of `parts` (name, file name, bytes), and its content type.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "masthead-test-boundary-7d3f";
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(filename) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                     Content-Type: image/jpeg\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => {
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes())
            }
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The size of an image as its bytes say.
pub fn dimensions(bytes: &[u8]) -> (u32, u32) {
    image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().unwrap().into_dimensions().unwrap()
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}
