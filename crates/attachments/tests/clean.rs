//! What is kept of an upload, checked with an EXIF reader of its own
//! (kamadak-exif): a phone photo's GPS position, serial number and capture time
//! never survive, the picture comes out upright, and what is not accepted is
//! refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::io::Cursor;

use aduan_attachments::{clean, heif, MediaType, Refused};
use aduan_testkit::photos::{exif_tiff, phone_jpeg};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

fn gps_of(bytes: &[u8]) -> Option<String> {
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok()?;
    exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
        .map(|f| f.display_value().to_string())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_phone_photo_loses_its_gps_serial_and_time_and_comes_out_upright() {
    let photo = phone_jpeg(6); // rotate 90° clockwise to display
    assert!(gps_of(&photo).is_some(), "the fixture carries GPS");
    assert!(contains(&photo, b"SERIAL-X9123456"));

    let kept = clean(photo).unwrap();
    assert_eq!(kept.media_type, MediaType::Jpeg);
    assert_eq!(gps_of(&kept.bytes), None, "GPS survived");
    assert!(
        exif::Reader::new()
            .read_from_container(&mut Cursor::new(&kept.bytes))
            .is_err(),
        "no EXIF at all"
    );
    assert!(!contains(&kept.bytes, b"SERIAL-X9123456"));
    assert!(!contains(&kept.bytes, b"2026:11:29"));
    let upright = image::load_from_memory(&kept.bytes).unwrap().to_rgb8();
    assert_eq!((upright.width(), upright.height()), (20, 40));
    // Turned clockwise: what was the left (red) half is now on top.
    assert!(
        upright.get_pixel(10, 5)[0] > 150,
        "{:?}",
        upright.get_pixel(10, 5)
    );
    assert!(
        upright.get_pixel(10, 35)[2] > 150,
        "{:?}",
        upright.get_pixel(10, 35)
    );

    let thumb = image::load_from_memory(&kept.thumbnail.unwrap()).unwrap();
    assert!(thumb.width() <= 320 && thumb.height() <= 320);
}

#[test]
fn large_pictures_get_a_thumbnail_of_320_pixels() {
    let picture = RgbImage::from_pixel(1600, 1200, Rgb([10, 200, 10]));
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    let kept = clean(png).unwrap();
    assert_eq!(kept.media_type, MediaType::Png);
    let thumb = image::load_from_memory(&kept.thumbnail.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
}

#[test]
fn png_text_chunks_and_webp_metadata_do_not_survive() {
    let picture = RgbImage::from_pixel(8, 8, Rgb([1, 2, 3]));
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(picture.clone())
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    // A tEXt chunk before IEND (its CRC is not checked by decoders we use).
    let text = b"Comment\0taken at -5.1551,119.4239";
    let iend = png.len() - 12;
    let mut chunk = (text.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(text);
    chunk.extend_from_slice(&crc32(b"tEXt", text).to_be_bytes());
    png.splice(iend..iend, chunk);
    assert!(contains(&png, b"119.4239"));
    let kept = clean(png).unwrap();
    assert!(!contains(&kept.bytes, b"119.4239"));

    let mut webp = Vec::new();
    DynamicImage::ImageRgb8(picture)
        .write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP)
        .unwrap();
    let kept = clean(webp).unwrap();
    assert_eq!(kept.media_type, MediaType::Webp);
    assert_eq!(image::load_from_memory(&kept.bytes).unwrap().width(), 8);
}

fn crc32(kind: &[u8], data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in kind.iter().chain(data) {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn what_is_not_accepted_is_refused() {
    assert_eq!(
        clean(b"GIF89a\x01\0\x01\0".to_vec()).unwrap_err(),
        Refused::Type
    );
    assert_eq!(clean(b"<svg/>".to_vec()).unwrap_err(), Refused::Type);
    assert_eq!(clean(Vec::new()).unwrap_err(), Refused::Type);
    // A JPEG's first bytes and nothing after: recognised, but unreadable.
    let truncated = phone_jpeg(1)[..200].to_vec();
    assert!(matches!(
        clean(truncated).unwrap_err(),
        Refused::Unreadable(_)
    ));
    // A PDF with nothing to remove is kept as sent.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let kept = clean(pdf.clone()).unwrap();
    assert_eq!(
        (kept.media_type, kept.bytes, kept.thumbnail),
        (MediaType::Pdf, pdf, None)
    );
}

fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

fn infe(id: u16, item_type: &[u8; 4]) -> Vec<u8> {
    let mut body = vec![2, 0, 0, 0]; // version 2
    body.extend_from_slice(&id.to_be_bytes());
    body.extend_from_slice(&0u16.to_be_bytes());
    body.extend_from_slice(item_type);
    body.push(0); // item_name ""
    boxed(b"infe", &body)
}

/// A minimal HEIF: a picture item and an EXIF item, both in `mdat`.
fn phone_heic() -> (Vec<u8>, std::ops::Range<usize>, std::ops::Range<usize>) {
    let picture = b"HEVC-CODED-PICTURE-BYTES".to_vec();
    let mut exif = 0u32.to_be_bytes().to_vec(); // offset to the TIFF header
    exif.extend_from_slice(&exif_tiff(1));
    let ftyp = boxed(b"ftyp", b"heic\0\0\0\0mif1heic");
    let hdlr = boxed(b"hdlr", b"\0\0\0\0\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
    let mut iinf_body = vec![0, 0, 0, 0];
    iinf_body.extend_from_slice(&2u16.to_be_bytes());
    iinf_body.extend(infe(1, b"hvc1"));
    iinf_body.extend(infe(2, b"Exif"));
    let iinf = boxed(b"iinf", &iinf_body);
    // iloc v0: offset_size 4, length_size 4, base_offset_size 0.
    let iloc_len = 8 + 4 + 2 + 2 + 2 * (2 + 2 + 2 + 8);
    let meta_len = 8 + 4 + hdlr.len() + iinf.len() + iloc_len;
    let mdat_data = ftyp.len() + meta_len + 8;
    let picture_at = mdat_data;
    let exif_at = mdat_data + picture.len();
    let mut iloc_body = vec![0, 0, 0, 0, 0x44, 0x00];
    iloc_body.extend_from_slice(&2u16.to_be_bytes());
    for (id, at, len) in [(1u16, picture_at, picture.len()), (2, exif_at, exif.len())] {
        iloc_body.extend_from_slice(&id.to_be_bytes());
        iloc_body.extend_from_slice(&0u16.to_be_bytes()); // data_reference_index
        iloc_body.extend_from_slice(&1u16.to_be_bytes()); // extent_count
        iloc_body.extend_from_slice(&(at as u32).to_be_bytes());
        iloc_body.extend_from_slice(&(len as u32).to_be_bytes());
    }
    let iloc = boxed(b"iloc", &iloc_body);
    let mut meta_body = vec![0, 0, 0, 0];
    meta_body.extend(hdlr);
    meta_body.extend(iinf);
    meta_body.extend(iloc);
    let meta = boxed(b"meta", &meta_body);
    assert_eq!(meta.len(), meta_len);
    let mut mdat_body = picture.clone();
    mdat_body.extend_from_slice(&exif);
    let mut file = ftyp;
    file.extend(meta);
    file.extend(boxed(b"mdat", &mdat_body));
    (
        file,
        picture_at..picture_at + picture.len(),
        exif_at..exif_at + exif.len(),
    )
}

#[test]
fn heic_keeps_its_picture_and_loses_its_exif() {
    let (heic, picture, exif) = phone_heic();
    assert_eq!(MediaType::sniff(&heic), Some(MediaType::Heic));
    assert!(
        gps_of(&heic).is_some(),
        "an EXIF reader finds the fixture's GPS"
    );
    assert!(contains(&heic, b"SERIAL-X9123456"));
    let kept = clean(heic.clone()).unwrap();
    assert_eq!(kept.media_type, MediaType::Heic);
    assert_eq!(kept.bytes.len(), heic.len(), "offsets stay valid");
    assert_eq!(
        kept.bytes[picture.clone()],
        heic[picture],
        "the picture is untouched"
    );
    assert!(kept.bytes[exif].iter().all(|b| *b == 0));
    assert!(!contains(&kept.bytes, b"SERIAL-X9123456"));
    assert_eq!(gps_of(&kept.bytes), None);
}

#[test]
fn heic_whose_metadata_cannot_be_located_is_refused() {
    let (mut heic, _, _) = phone_heic();
    // Point the EXIF item's extent past the end of the file.
    let iloc = heic.windows(4).position(|w| w == b"iloc").unwrap();
    let exif_extent_offset = iloc + 4 + 4 + 2 + 2 + 14 + 2 + 2 + 2;
    heic[exif_extent_offset..exif_extent_offset + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(heif::strip(heic.clone()).is_err());
    assert!(matches!(clean(heic).unwrap_err(), Refused::Unreadable(_)));
}

/// A one-page PDF written by hand: `objects` numbered from 1, a classic
/// cross-reference table with their offsets, and `trailer_extra` in the trailer.
fn pdf_of(objects: &[String], trailer_extra: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(dict: &str, content: &str) -> String {
    format!(
        "<< {dict} /Length {} >>\nstream\n{content}\nendstream",
        content.len()
    )
}

#[test]
fn a_pdf_loses_its_author_and_xmp_and_keeps_its_page() {
    let xmp = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>Budi Santoso</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#;
    let page_text = "BT /F1 12 Tf 72 720 Td (Jalan berlubang di depan rumah) Tj ET";
    let original = pdf_of(
        &[
            "<< /Type /Catalog /Pages 2 0 R /Metadata 4 0 R >>".into(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R \
             /Resources << /Font << /F1 7 0 R >> >> /PieceInfo << /App << /Private (HP-LAPTOP-BUDI) >> >> >>"
                .into(),
            stream("/Type /Metadata /Subtype /XML", xmp),
            stream("", page_text),
            "<< /Author (Budi Santoso) /Creator (Microsoft Word) /Producer (Budi's laptop) \
             /CreationDate (D:20261129081500+08'00') /Title (Surat keluhan) >>"
                .into(),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into(),
        ],
        "/Info 6 0 R",
    );
    assert!(contains(&original, b"Budi Santoso"));

    let kept = clean(original).unwrap();
    assert_eq!(kept.media_type, MediaType::Pdf);
    assert_eq!(kept.thumbnail, None);
    for gone in [
        &b"Budi Santoso"[..],
        b"xmpmeta",
        b"Microsoft Word",
        b"Budi's laptop",
        b"D:20261129",
        b"Surat keluhan",
        b"HP-LAPTOP-BUDI",
        b"/Info",
        b"/Metadata",
    ] {
        assert!(
            !contains(&kept.bytes, gone),
            "{} survived",
            String::from_utf8_lossy(gone)
        );
    }
    // Still a PDF with its page and what the page shows.
    let doc = lopdf::Document::load_mem(&kept.bytes).unwrap();
    assert_eq!(doc.get_pages().len(), 1);
    let page = *doc.get_pages().values().next().unwrap();
    let content = doc.get_page_content(page).unwrap();
    assert!(contains(&content, b"Jalan berlubang di depan rumah"));
    // Cleaning what was cleaned changes nothing.
    assert_eq!(clean(kept.bytes.clone()).unwrap().bytes, kept.bytes);
}

#[test]
fn a_pdf_that_cannot_be_read_is_refused() {
    let broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Metadata 2 0 R >> endobj\ngarbage".to_vec();
    assert!(matches!(clean(broken).unwrap_err(), Refused::Unreadable(_)));
}
