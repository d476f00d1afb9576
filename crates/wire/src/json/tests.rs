use super::*;
use crate::testgen::{best_of_three, from_fragments, rng, CASES};

fn serde_says(text: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

#[test]
fn accepts_json_and_refuses_the_rest() {
    for ok in [
        "{}",
        "[]",
        " {\"a\" : [1, -0.5e+3, 2E7, true, false, null, \"\\u00e9\\n\\\"\"], \"b\":{}}\r\n",
        "\"just a string\"",
        "0",
        "-12.25",
        "[[[]],{}]",
        "{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}",
    ] {
        assert!(is_json(ok), "{ok}");
        assert!(serde_says(ok), "{ok}");
    }
    for bad in [
        "",
        " ",
        "{",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "[1,]",
        "[1 2]",
        "{1:2}",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "tru",
        "nul",
        "truex",
        "\"unterminated",
        "\"bad \\x escape\"",
        "\"\\u12\"",
        "\"tab\tinside\"",
        "[DONE]",
        "{} {}",
        "{]",
        "[}",
        "'single'",
    ] {
        assert!(!is_json(bad), "{bad:?}");
        assert!(!serde_says(bad), "{bad:?}");
    }
}

#[test]
fn nesting_is_limited_to_128_levels() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(is_json(&deep(128)));
    assert!(!is_json(&deep(129)));
    assert!(is_json(&format!(
        "{}1{}",
        "{\"a\":".repeat(128),
        "}".repeat(128)
    )));
}

const FRAGMENTS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"\"key\"",
    b"\"\\u00e9\\\\\"",
    b"\\",
    b"\\u12",
    b"0",
    b"-",
    b"7",
    b".",
    b"e",
    b"E",
    b"+",
    b"true",
    b"fals",
    b"null",
    b" ",
    b"\n",
    b"\t",
    b"\x01",
    b"\xc3\xa9",
];

/// A random JSON text: values of every kind, nested, with whitespace anywhere it may go.
fn value(r: &mut fastrand::Rng, depth: u32, out: &mut String) {
    let ws = |r: &mut fastrand::Rng, out: &mut String| {
        for _ in 0..r.usize(0..2) {
            out.push([' ', '\n', '\t', '\r'][r.usize(..4)]);
        }
    };
    ws(r, out);
    match r.u8(0..if depth > 6 { 5 } else { 7 }) {
        0 => out.push_str(["true", "false", "null"][r.usize(..3)]),
        1 => out.push_str(&r.i64(..).to_string()),
        2 => out.push_str(&format!("{}e{}", r.f64() * 100.0, r.i8(..))),
        3 | 4 => {
            out.push('"');
            for _ in 0..r.usize(0..6) {
                out.push_str(["a", "é", "\\n", "\\u20ac", "\\\"", "\\/", "😀"][r.usize(..7)]);
            }
            out.push('"');
        }
        5 => {
            out.push('[');
            for i in 0..r.usize(0..4) {
                if i > 0 {
                    out.push(',');
                }
                value(r, depth + 1, out);
            }
            ws(r, out);
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..r.usize(0..4) {
                if i > 0 {
                    out.push(',');
                }
                ws(r, out);
                out.push_str(&format!("\"k{i}\""));
                ws(r, out);
                out.push(':');
                value(r, depth + 1, out);
            }
            ws(r, out);
            out.push('}');
        }
    }
    ws(r, out);
}

#[test]
fn property_agrees_with_serde_json_on_any_text() {
    let mut valid = 0;
    for case in 0..CASES * 5 {
        let mut r = rng(case);
        let text = if r.bool() {
            String::from_utf8_lossy(&from_fragments(&mut r, FRAGMENTS, 30)).into_owned()
        } else {
            // Valid JSON, then (half the time) one byte taken out or put in.
            let mut t = String::new();
            value(&mut r, 0, &mut t);
            let mut bytes = t.into_bytes();
            match r.u8(0..4) {
                0 if !bytes.is_empty() => {
                    bytes.remove(r.usize(..bytes.len()));
                }
                1 => {
                    let at = r.usize(..=bytes.len());
                    bytes.insert(at, FRAGMENTS[r.usize(..FRAGMENTS.len())][0]);
                }
                _ => {}
            }
            String::from_utf8_lossy(&bytes).into_owned()
        };
        assert_eq!(is_json(&text), serde_says(&text), "case {case}: {text:?}");
        valid += usize::from(is_json(&text));
    }
    // Both answers are well represented.
    assert!((300..1700).contains(&valid), "{valid} of 2000 valid");
}

#[test]
fn property_time_is_linear_in_the_text() {
    let shapes = [
        |n: usize| format!("\"{}\"", "a\\n".repeat(n)),
        |n: usize| format!("[{}0]", "1.5e3, ".repeat(n)),
        |n: usize| format!("[{}1]", "{\"k\":[]}, ".repeat(n)),
        |n: usize| format!("[{}0]", "[[[[{}]]]],".repeat(n)),
    ];
    for shape in shapes {
        let (small, large) = (shape(1 << 13), shape(1 << 16));
        assert!(is_json(&small) && is_json(&large), "the whole text is read");
        let t_small = best_of_three(|| {
            std::hint::black_box(is_json(&small));
        });
        let t_large = best_of_three(|| {
            std::hint::black_box(is_json(&large));
        });
        // 8x the input; a quadratic check would take 64x. Generous for a busy machine.
        assert!(
            t_large <= t_small * 32 + std::time::Duration::from_millis(5),
            "{t_small:?} then {t_large:?}"
        );
    }
}

#[test]
fn long_strings_are_checked_byte_for_byte_at_every_offset() {
    // Strings are skipped eight bytes at a time: a quote, backslash or control character must
    // be seen wherever it falls in a block, and bytes of other characters must not stop it.
    let mut specials: Vec<String> = (0u8..0x20).map(|b| char::from(b).to_string()).collect();
    specials.extend(
        [
            "\"", "\\", "\\\"", "\\u00e9", "\\x", "é", "😀", "\u{7f}", " ",
        ]
        .map(String::from),
    );
    for len in [7, 8, 9, 16, 23, 24, 31] {
        for at in 0..=len {
            for sp in &specials {
                let mut inner = "a".repeat(len);
                inner.insert_str(at, sp);
                let text = format!("{{\"k\":\"{inner}\",\"n\":1}}");
                assert_eq!(is_json(&text), serde_says(&text), "{text:?}");
            }
        }
    }
}
