//! Prompt tokens of an image part, the way OpenAI bills it: the "Calculating costs" section of the
//! Images and vision guide (platform.openai.com/docs/guides/images-vision), as published in 2025.
//!
//! Tile models: `detail: "low"` costs the base; otherwise the image is scaled to fit 2048×2048, then
//! (if its shorter side is over 768) so that the shorter side is 768, and each 512-px tile costs the
//! tile price on top of the base (a 1024×1024 image: 4 tiles, 85 + 4·170 = 765 on gpt-4o).
//! Patch models (gpt-4.1-mini/-nano, o4-mini, gpt-5-mini/-nano): 32-px patches, capped at 1536 by
//! scaling the image down, times a per-model multiplier; `detail` does not change it.
//!
//! The size is read from the image header when the URL is a base64 `data:` URL of a PNG, GIF, WebP or
//! JPEG. Otherwise (an http(s) URL, another format) the size is unknown and we charge a 1024×1024 image,
//! the size the guide's own worked example uses: 765 tokens on gpt-4o at high detail. `detail: "auto"`
//! (the default) is charged as high detail, the larger of the two, since the count admits requests.

/// How a model prices images.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pricing {
    Tiles { base: u64, tile: u64 },
    Patches { multiplier: f64 },
}

/// The pricing of an OpenAI model (`name` lowercased, no routing prefix). The first match wins, so the
/// minis come before their families.
pub fn pricing(name: &str) -> Pricing {
    const TABLE: &[(&str, Pricing)] = &[
        (
            "gpt-4o-mini",
            Pricing::Tiles {
                base: 2833,
                tile: 5667,
            },
        ),
        ("gpt-4.1-mini", Pricing::Patches { multiplier: 1.62 }),
        ("gpt-4.1-nano", Pricing::Patches { multiplier: 2.46 }),
        ("gpt-5-mini", Pricing::Patches { multiplier: 1.62 }),
        ("gpt-5-nano", Pricing::Patches { multiplier: 2.46 }),
        ("o4-mini", Pricing::Patches { multiplier: 1.72 }),
        (
            "gpt-5",
            Pricing::Tiles {
                base: 70,
                tile: 140,
            },
        ),
        (
            "o1",
            Pricing::Tiles {
                base: 75,
                tile: 150,
            },
        ),
        (
            "o3",
            Pricing::Tiles {
                base: 75,
                tile: 150,
            },
        ),
        (
            "computer-use-preview",
            Pricing::Tiles {
                base: 65,
                tile: 129,
            },
        ),
    ];
    TABLE
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or(
            Pricing::Tiles {
                base: 85,
                tile: 170,
            },
            |&(_, p)| p,
        )
}

/// The size we charge when the image's own is unknown.
pub const UNKNOWN_SIZE: (u64, u64) = (1024, 1024);

/// Tokens of one image of `size` (width, height; None if unknown) at `low` detail or not.
pub fn tokens(pricing: Pricing, size: Option<(u64, u64)>, low: bool) -> u64 {
    let (w, h) = size.unwrap_or(UNKNOWN_SIZE);
    match pricing {
        Pricing::Tiles { base, .. } if low => base,
        Pricing::Tiles { base, tile } => base + tile * tiles(w, h),
        Pricing::Patches { multiplier } => (patches(w, h) as f64 * multiplier).ceil() as u64,
    }
}

/// 512-px tiles after fitting into 2048×2048 and scaling the shorter side down to 768.
pub fn tiles(w: u64, h: u64) -> u64 {
    if w == 0 || h == 0 {
        return 0;
    }
    let (mut w, mut h) = (w as f64, h as f64);
    if w > 2048.0 || h > 2048.0 {
        let r = 2048.0 / w.max(h);
        (w, h) = (w * r, h * r);
    }
    if w.min(h) > 768.0 {
        let r = 768.0 / w.min(h);
        (w, h) = (w * r, h * r);
    }
    ((w / 512.0).ceil() * (h / 512.0).ceil()) as u64
}

/// 32-px patches, the image scaled down (whole patches per side) until there are at most 1536.
pub fn patches(w: u64, h: u64) -> u64 {
    const CAP: f64 = 1536.0;
    let (w, h) = (w as f64, h as f64);
    let raw = (w / 32.0).ceil() * (h / 32.0).ceil();
    if raw <= CAP {
        return raw as u64;
    }
    let r = (32.0 * 32.0 * CAP / (w * h)).sqrt();
    let r =
        r * ((w * r / 32.0).floor() / (w * r / 32.0)).min((h * r / 32.0).floor() / (h * r / 32.0));
    (((w * r / 32.0).floor() * (h * r / 32.0).floor()) as u64).min(CAP as u64)
}

/// The pixel size of a `data:` URL's image, if it is base64 PNG, GIF, WebP or JPEG and its header is
/// within the first 64 KiB of the data.
pub fn data_url_size(url: &str) -> Option<(u64, u64)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    if !meta.ends_with(";base64") {
        return None;
    }
    // 64 KiB of image bytes: a JPEG's frame header follows its EXIF/ICC segments, usually well inside.
    let head = decode_base64_prefix(data.as_bytes(), 64 * 1024);
    sniff_size(&head)
}

fn decode_base64_prefix(data: &[u8], max_out: usize) -> Vec<u8> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' | b'-' => Some(62),
            b'/' | b'_' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(max_out.min(data.len() * 3 / 4 + 3));
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in data {
        if out.len() >= max_out || c == b'=' {
            break;
        }
        let Some(v) = value(c) else { continue }; // whitespace or junk: skip, as lenient decoders do
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Width and height from an image header.
pub fn sniff_size(b: &[u8]) -> Option<(u64, u64)> {
    let be16 = |i: usize| {
        b.get(i..i + 2)
            .map(|s| u64::from(u16::from_be_bytes([s[0], s[1]])))
    };
    let le16 = |i: usize| {
        b.get(i..i + 2)
            .map(|s| u64::from(u16::from_le_bytes([s[0], s[1]])))
    };
    let be32 = |i: usize| {
        b.get(i..i + 4)
            .map(|s| u64::from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])))
    };
    let le24 = |i: usize| {
        b.get(i..i + 3)
            .map(|s| u64::from(s[0]) | u64::from(s[1]) << 8 | u64::from(s[2]) << 16)
    };
    if b.starts_with(b"\x89PNG\r\n\x1a\n") && b.get(12..16) == Some(b"IHDR") {
        return Some((be32(16)?, be32(20)?));
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some((le16(6)?, le16(8)?));
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        return match b.get(12..16)? {
            b"VP8 " if b.get(23..26) == Some(b"\x9d\x01\x2a") => {
                Some((le16(26)? & 0x3fff, le16(28)? & 0x3fff))
            }
            b"VP8L" if b.get(20) == Some(&0x2f) => {
                let v = u64::from(u32::from_le_bytes(b.get(21..25)?.try_into().ok()?));
                Some(((v & 0x3fff) + 1, ((v >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            _ => None,
        };
    }
    if b.starts_with(b"\xff\xd8") {
        // Walk the JPEG segments to the first start-of-frame marker (SOF0..SOF15 but DHT, JPG, DAC).
        let mut i = 2;
        while i + 4 <= b.len() {
            if b[i] != 0xff {
                return None;
            }
            let marker = b[i + 1];
            if marker == 0xff {
                i += 1; // fill byte
                continue;
            }
            if matches!(marker, 0xd0..=0xd9 | 0x01) {
                i += 2; // standalone markers have no length
                continue;
            }
            let len = usize::try_from(be16(i + 2)?).ok()?;
            if matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc) {
                return Some((be16(i + 7)?, be16(i + 5)?));
            }
            i += 2 + len;
        }
    }
    None
}
