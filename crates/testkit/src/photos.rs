//! Photos as phones send them: with EXIF (GPS position, a serial number, the
//! capture time, an orientation), for the tests that check none of it survives.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

/// The serial number and capture time the fixtures carry.
pub const SERIAL: &[u8] = b"SERIAL-X9123456";
pub const CAPTURED: &[u8] = b"2026:11:29";

/// A little-endian TIFF structure as EXIF holds it: IFD0 with Orientation,
/// DateTime, a serial number (as ImageDescription) and a pointer to a GPS IFD
/// with a latitude in Makassar.
pub fn exif_tiff(orientation: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: 4 entries.
    let ifd0_entries = 4u16;
    let ifd0_size = 2 + 12 * ifd0_entries as u32 + 4;
    let datetime_at = 8 + ifd0_size;
    let serial_at = datetime_at + 20;
    let gps_at = serial_at + 16;
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    t.extend_from_slice(&ifd0_entries.to_le_bytes());
    entry(&mut t, 0x010E, 2, 16, serial_at); // ImageDescription
    entry(&mut t, 0x0112, 3, 1, u32::from(orientation)); // Orientation
    entry(&mut t, 0x0132, 2, 20, datetime_at); // DateTime
    entry(&mut t, 0x8825, 4, 1, gps_at); // GPSInfo
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(b"2026:11:29 08:15:00\0");
    t.extend_from_slice(b"SERIAL-X9123456\0");
    // GPS IFD: LatitudeRef "S", Latitude 5/1 9/1 1800/100.
    let rationals_at = gps_at + 2 + 12 * 2 + 4;
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes(*b"S\0\0\0"));
    entry(&mut t, 0x0002, 5, 3, rationals_at);
    t.extend_from_slice(&0u32.to_le_bytes());
    for (n, d) in [(5u32, 1u32), (9, 1), (1800, 100)] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    t
}

/// A 40×20 JPEG (left half red, right half blue) with an EXIF APP1 segment.
pub fn phone_jpeg(orientation: u16) -> Vec<u8> {
    let picture = RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    });
    let mut plain = Vec::new();
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut Cursor::new(&mut plain), ImageFormat::Jpeg)
        .unwrap();
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&exif_tiff(orientation));
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}
