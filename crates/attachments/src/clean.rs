//! What is kept of an upload: images decoded and encoded again (which leaves
//! every metadata segment behind: GPS position, camera serial, capture time,
//! comments) after turning them upright as their EXIF orientation said, plus a
//! thumbnail for lists; HEIC with its metadata items zeroed (see `heif`); PDF
//! without its document information and XMP metadata (see `pdf`).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::kind::MediaType;
use crate::{heif, pdf, Refused};

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
/// Pictures larger than this (either side) are refused: decoding one would
/// take memory out of proportion to any phone photo.
const MAX_SIDE: u32 = 16_384;
const MAX_DECODED_BYTES: u64 = 512 * 1024 * 1024;
const JPEG_QUALITY: u8 = 90;
const THUMBNAIL_QUALITY: u8 = 80;

#[derive(Debug)]
pub struct Cleaned {
    pub bytes: Vec<u8>,
    pub media_type: MediaType,
    /// A JPEG at most `THUMBNAIL_SIDE` on its longer side, for pictures that
    /// can be decoded here (not HEIC, not PDF).
    pub thumbnail: Option<Vec<u8>>,
}

/// Recognises `input` and keeps what may be kept of it.
pub fn clean(input: Vec<u8>) -> Result<Cleaned, Refused> {
    let media_type = MediaType::sniff(&input).ok_or(Refused::Type)?;
    match media_type {
        MediaType::Jpeg | MediaType::Png | MediaType::Webp => reencode(&input, media_type),
        MediaType::Heic => {
            let (bytes, _) = heif::strip(input).map_err(|e| Refused::Unreadable(e.to_string()))?;
            Ok(Cleaned {
                bytes,
                media_type,
                thumbnail: None,
            })
        }
        MediaType::Pdf => Ok(Cleaned {
            bytes: pdf::strip(input)?,
            media_type,
            thumbnail: None,
        }),
    }
}

fn format_of(media_type: MediaType) -> ImageFormat {
    match media_type {
        MediaType::Png => ImageFormat::Png,
        MediaType::Webp => ImageFormat::WebP,
        _ => ImageFormat::Jpeg,
    }
}

fn decode(input: &[u8], media_type: MediaType) -> Result<DynamicImage, image::ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(input), format_of(media_type));
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut picture = DynamicImage::from_decoder(decoder)?;
    picture.apply_orientation(orientation);
    Ok(picture)
}

fn reencode(input: &[u8], media_type: MediaType) -> Result<Cleaned, Refused> {
    let unreadable = |e: image::ImageError| Refused::Unreadable(e.to_string());
    let picture = decode(input, media_type).map_err(unreadable)?;
    let mut bytes = Vec::new();
    match media_type {
        MediaType::Jpeg => picture
            .to_rgb8()
            .write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)),
        MediaType::Webp => picture
            .to_rgba8()
            .write_with_encoder(WebPEncoder::new_lossless(&mut bytes)),
        _ => picture.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png),
    }
    .map_err(unreadable)?;
    let mut thumbnail = Vec::new();
    picture
        .thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        .to_rgb8()
        .write_with_encoder(JpegEncoder::new_with_quality(
            &mut thumbnail,
            THUMBNAIL_QUALITY,
        ))
        .map_err(unreadable)?;
    Ok(Cleaned {
        bytes,
        media_type,
        thumbnail: Some(thumbnail),
    })
}
