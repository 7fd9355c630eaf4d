//! Photos for tests: a phone's photo with its GPS position in it, and a
//! decompression bomb. Public for the integration tests (`tests/images.rs`).

use image::{DynamicImage, ImageDecoder};

use super::{Format, reader};

/// A `width` × `height` JPEG with an EXIF block that holds a GPS
/// position (37°N) and orientation 6 (stored sideways), as a phone
/// writes it.
pub fn phone_photo(width: u32, height: u32) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(pixels)
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut jpeg, 90,
        ))
        .unwrap();
    let exif = exif_with_gps();
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    segment.extend_from_slice(&exif);
    // After the SOI marker, before everything else.
    let mut photo = jpeg[..2].to_vec();
    photo.extend_from_slice(&segment);
    photo.extend_from_slice(&jpeg[2..]);
    photo
}

/// `Exif\0\0`, then a little-endian TIFF: IFD0 with Orientation = 6 and
/// a GPS IFD pointer; the GPS IFD with GPSLatitudeRef = "N" and
/// GPSLatitude = 37/1, 46/1, 30/1.
fn exif_with_gps() -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: two entries.
    t.extend_from_slice(&2u16.to_le_bytes());
    // Orientation (0x0112), SHORT, 1, value 6.
    t.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    // GPSInfo (0x8825), LONG, 1, offset 38.
    t.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0]);
    t.extend_from_slice(&38u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 38);
    // GPS IFD at 38: two entries.
    t.extend_from_slice(&2u16.to_le_bytes());
    // GPSLatitudeRef (1), ASCII, 2, "N\0".
    t.extend_from_slice(&[1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    // GPSLatitude (2), RATIONAL, 3, offset 68.
    t.extend_from_slice(&[2, 0, 5, 0, 3, 0, 0, 0]);
    t.extend_from_slice(&68u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 68);
    for (num, den) in [(37u32, 1u32), (46, 1), (30, 1)] {
        t.extend_from_slice(&num.to_le_bytes());
        t.extend_from_slice(&den.to_le_bytes());
    }
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&t);
    exif
}

/// Whether the file carries an EXIF block, as the decoder reads it.
pub fn has_exif(bytes: &[u8]) -> bool {
    let format = Format::sniff(bytes).unwrap();
    let mut decoder = reader(bytes, format).into_decoder().unwrap();
    decoder.exif_metadata().unwrap().is_some() || bytes.windows(4).any(|w| w == b"Exif")
}

/// A grey PNG of the size given, written row by row so the test itself
/// never holds its pixels.
pub fn bomb_png(width: u32, height: u32) -> Vec<u8> {
    use std::io::Write as _;
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = vec![128u8; width as usize];
        for _ in 0..height {
            stream.write_all(&row).unwrap();
        }
        stream.finish().unwrap();
    }
    out
}

/// A `width` × `height` gradient in `format`, with no metadata.
pub fn photo_in(format: Format, width: u32, height: u32) -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 64])
    });
    let image = DynamicImage::ImageRgb8(pixels);
    super::upload::encode(&image, format, super::upload::Quality::Kept).unwrap()
}

/// A JPEG of one colour, `rgb` in Display P3, with the Display P3 colour
/// profile an iPhone writes.
pub fn display_p3_photo(rgb: [u8; 3]) -> Vec<u8> {
    use image::ImageEncoder as _;
    let pixels = image::RgbImage::from_pixel(16, 16, image::Rgb(rgb));
    let profile = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let mut jpeg = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 100);
    encoder.set_icc_profile(profile).unwrap();
    DynamicImage::ImageRgb8(pixels)
        .write_with_encoder(encoder)
        .unwrap();
    jpeg
}

/// Whether the file carries a colour profile, as the decoder reads it.
pub fn has_icc(bytes: &[u8]) -> bool {
    let format = Format::sniff(bytes).unwrap();
    let mut decoder = reader(bytes, format).into_decoder().unwrap();
    decoder.icc_profile().unwrap().is_some()
}
