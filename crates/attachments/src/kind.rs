//! What a file is, from its first bytes: never from its name or the type a
//! client claims, both of which a client chooses freely.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Jpeg,
    Png,
    Webp,
    Heic,
    Pdf,
}

/// HEIF brands of HEVC-coded images (ISO/IEC 23008-12), as phones write them.
const HEIC_BRANDS: [&[u8; 4]; 6] = [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"];

impl MediaType {
    pub const ALL: [MediaType; 5] = [
        MediaType::Jpeg,
        MediaType::Png,
        MediaType::Webp,
        MediaType::Heic,
        MediaType::Pdf,
    ];

    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Heic => "image/heic",
            MediaType::Pdf => "application/pdf",
        }
    }

    pub fn from_mime(mime: &str) -> Option<MediaType> {
        MediaType::ALL.into_iter().find(|m| m.mime() == mime)
    }

    pub fn is_image(self) -> bool {
        self != MediaType::Pdf
    }

    /// Recognises an accepted type from the content.
    pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(MediaType::Jpeg);
        }
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(MediaType::Png);
        }
        if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            return Some(MediaType::Webp);
        }
        if bytes.starts_with(b"%PDF-") {
            return Some(MediaType::Pdf);
        }
        if is_heic(bytes) {
            return Some(MediaType::Heic);
        }
        None
    }
}

/// An ISO base media file whose `ftyp` names a HEIC brand, as the major brand
/// or (after a generic `mif1`/`msf1`) among the compatible ones.
fn is_heic(bytes: &[u8]) -> bool {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let Some(ftyp) = bytes.get(8..size.min(bytes.len())) else {
        return false;
    };
    let major = &ftyp[..4];
    let compatible = ftyp.get(8..).unwrap_or_default().chunks_exact(4);
    HEIC_BRANDS.iter().any(|b| major == *b)
        || (matches!(major, b"mif1" | b"msf1")
            && compatible
                .clone()
                .any(|c| HEIC_BRANDS.iter().any(|b| c == *b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&((16 + 4 * compatible.len()) as u32).to_be_bytes());
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(major);
        b.extend_from_slice(&0u32.to_be_bytes());
        for c in compatible {
            b.extend_from_slice(*c);
        }
        b
    }

    #[test]
    fn recognises_each_accepted_type_by_its_bytes() {
        assert_eq!(
            MediaType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(MediaType::Jpeg)
        );
        assert_eq!(
            MediaType::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(MediaType::Png)
        );
        assert_eq!(
            MediaType::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(MediaType::Webp)
        );
        assert_eq!(MediaType::sniff(b"%PDF-1.7\n"), Some(MediaType::Pdf));
        assert_eq!(
            MediaType::sniff(&ftyp(b"heic", &[b"mif1"])),
            Some(MediaType::Heic)
        );
        assert_eq!(
            MediaType::sniff(&ftyp(b"mif1", &[b"heic"])),
            Some(MediaType::Heic)
        );
    }

    #[test]
    fn refuses_everything_else_whatever_it_is_called() {
        for bytes in [
            &b"GIF89a......"[..],
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"MZ\x90\0 an executable",
            b"PK\x03\x04 a zip",
            b"",
            b"\xFF\xD8",
            b"RIFF\0\0\0\0WAVEfmt ",
        ] {
            assert_eq!(MediaType::sniff(bytes), None, "{bytes:?}");
        }
        // AVIF shares the container but not the codec.
        assert_eq!(MediaType::sniff(&ftyp(b"avif", &[b"mif1"])), None);
        assert_eq!(MediaType::sniff(&ftyp(b"mif1", &[b"avif"])), None);
    }

    #[test]
    fn mime_types_round_trip() {
        for m in MediaType::ALL {
            assert_eq!(MediaType::from_mime(m.mime()), Some(m));
        }
    }
}
