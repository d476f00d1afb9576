//! The text checks read: the original, and a normalized copy (NFKC, default-ignorable code
//! points removed) in which look-alike and invisible tricks collapse, with every normalized
//! byte mapped back to the original byte it came from, so a finding in the copy masks the
//! original's bytes.

use std::ops::Range;
use unicode_normalization::UnicodeNormalization;

/// A text and its normalized copy.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// NFKC, default-ignorables removed.
    pub text: String,
    /// For each byte of `text`, the start of the original character it came from; one more
    /// entry for the end.
    map: Vec<u32>,
    /// The original's length.
    raw_len: usize,
    /// The copy is the original (nothing changed): the map is the identity and left empty.
    same: bool,
}

impl Normalized {
    pub fn new(raw: &str) -> Normalized {
        // ASCII is its own NFKC form and holds no default-ignorable.
        if raw.is_ascii() {
            return Normalized {
                text: raw.to_owned(),
                map: Vec::new(),
                raw_len: raw.len(),
                same: true,
            };
        }
        let mut text = String::with_capacity(raw.len());
        let mut map = Vec::with_capacity(raw.len() + 1);
        let mut buf = [0u8; 4];
        for (at, c) in raw.char_indices() {
            if is_default_ignorable(c) {
                continue;
            }
            // NFKC per character is close to NFKC of the whole for what checks look for
            // (compatibility forms, full-width letters, ligatures); composition across
            // characters is done below.
            for n in std::iter::once(c).nfkc() {
                let s = n.encode_utf8(&mut buf);
                text.push_str(s);
                map.extend(std::iter::repeat_n(at as u32, s.len()));
            }
        }
        map.push(raw.len() as u32);
        let same = text == raw;
        Normalized {
            text,
            map: if same { Vec::new() } else { map },
            raw_len: raw.len(),
            same,
        }
    }

    /// The original bytes a range of the normalized copy came from (whole characters).
    pub fn to_raw(&self, r: Range<usize>, raw: &str) -> Range<usize> {
        if self.same {
            // Widened to whole characters, as the mapped case is.
            let mut start = r.start.min(raw.len());
            while !raw.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = r.end.clamp(start, raw.len());
            while !raw.is_char_boundary(end) {
                end += 1;
            }
            return start..end;
        }
        let start = self
            .map
            .get(r.start)
            .copied()
            .unwrap_or(self.raw_len as u32) as usize;
        // The end: the original character of the copy's last byte, up to its end.
        let end = if r.end == 0 || r.end <= r.start {
            start
        } else {
            let last = self
                .map
                .get(r.end - 1)
                .copied()
                .unwrap_or(self.raw_len as u32) as usize;
            raw[last..]
                .chars()
                .next()
                .map_or(self.raw_len, |c| last + c.len_utf8())
        };
        start..end.max(start)
    }
}

/// Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt): invisible in
/// rendering, so a check must not let them split a word it looks for.
pub fn is_default_ignorable(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_compatibility_forms_collapse_and_map_back() {
        let raw = "pass\u{200B}word ＡＢＣ ﬁle";
        let n = Normalized::new(raw);
        assert_eq!(n.text, "password ABC file");
        let at = n.text.find("password").unwrap();
        let r = n.to_raw(at..at + "password".len(), raw);
        assert_eq!(&raw[r], "pass\u{200B}word");
        let at = n.text.find("ABC").unwrap();
        assert_eq!(&raw[n.to_raw(at..at + 3, raw)], "ＡＢＣ");
        // Part of a ligature maps to the whole ligature.
        let at = n.text.find("fi").unwrap();
        assert_eq!(&raw[n.to_raw(at..at + 1, raw)], "ﬁ");
    }

    #[test]
    fn plain_text_is_its_own_copy() {
        let n = Normalized::new("hello world");
        assert_eq!(n.text, "hello world");
        assert_eq!(n.to_raw(6..11, "hello world"), 6..11);
    }

    #[test]
    fn mapping_stays_on_character_boundaries_for_random_text() {
        let mut rng = fastrand::Rng::with_seed(3);
        let alphabet = ['a', 'é', '\u{200B}', 'ﬁ', '１', '😀', ' ', 'Ω', '\u{E0041}'];
        for _ in 0..500 {
            let raw: String = (0..rng.usize(0..20))
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            let n = Normalized::new(&raw);
            for _ in 0..10 {
                let a = rng.usize(0..=n.text.len());
                let b = rng.usize(a..=n.text.len());
                let r = n.to_raw(a..b, &raw);
                assert!(raw.is_char_boundary(r.start) && raw.is_char_boundary(r.end));
                assert!(r.start <= r.end && r.end <= raw.len());
            }
        }
    }
}
