//! A JSON syntax check that allocates nothing, for the relay to run on every event it passes
//! through.
//!
//! It accepts what `serde_json` accepts when it skips a value (`from_str::<IgnoredAny>`), which
//! would allocate a nesting stack for most events; here the stack is the bits of one integer,
//! so nesting is limited to 128 levels (serde_json's own limit when it builds values). One pass,
//! no recursion: the work is linear in the text whatever it holds.

/// Deepest nesting accepted.
const MAX_DEPTH: u32 = 128;

/// Whether `text` is one JSON value with only whitespace around it.
pub fn is_json(text: &str) -> bool {
    Checker {
        b: text.as_bytes(),
        i: 0,
    }
    .document()
}

struct Checker<'a> {
    b: &'a [u8],
    i: usize,
}

impl Checker<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.i += 1;
        }
    }

    fn document(&mut self) -> bool {
        // Bit d is set when the container at depth d is an object (else it is an array).
        let mut objects: u128 = 0;
        let mut depth: u32 = 0;
        'value: loop {
            // A value is expected here.
            self.skip_ws();
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if depth == MAX_DEPTH {
                        return false;
                    }
                    self.i += 1;
                    let object = open == b'{';
                    if object {
                        objects |= 1 << depth;
                    } else {
                        objects &= !(1 << depth);
                    }
                    depth += 1;
                    self.skip_ws();
                    let close = if object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.i += 1;
                        depth -= 1;
                    } else if object && !self.key() {
                        return false;
                    } else {
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    self.i += 1;
                    if !self.string() {
                        return false;
                    }
                }
                Some(b't') if self.literal(b"true") => {}
                Some(b'f') if self.literal(b"false") => {}
                Some(b'n') if self.literal(b"null") => {}
                Some(b'-' | b'0'..=b'9') if self.number() => {}
                _ => return false,
            }
            // A value has ended: close containers until a comma, or the end of the text.
            loop {
                self.skip_ws();
                if depth == 0 {
                    return self.i == self.b.len();
                }
                let object = (objects >> (depth - 1)) & 1 == 1;
                match (self.peek(), object) {
                    (Some(b','), true) => {
                        self.i += 1;
                        self.skip_ws();
                        if !self.key() {
                            return false;
                        }
                        continue 'value;
                    }
                    (Some(b','), false) => {
                        self.i += 1;
                        continue 'value;
                    }
                    (Some(b'}'), true) | (Some(b']'), false) => {
                        self.i += 1;
                        depth -= 1;
                    }
                    _ => return false,
                }
            }
        }
    }

    /// An object key and its colon.
    fn key(&mut self) -> bool {
        if self.peek() != Some(b'"') {
            return false;
        }
        self.i += 1;
        if !self.string() {
            return false;
        }
        self.skip_ws();
        if self.peek() != Some(b':') {
            return false;
        }
        self.i += 1;
        true
    }

    /// The rest of a string after its opening quote.
    fn string(&mut self) -> bool {
        loop {
            // Eight bytes at a time past plain text: none a quote, a backslash or a control
            // character (the common case; the test has no false negatives).
            while let Some(w) = self
                .b
                .get(self.i..self.i + 8)
                .and_then(|c| <[u8; 8]>::try_from(c).ok())
            {
                if has_special(u64::from_le_bytes(w)) {
                    break;
                }
                self.i += 8;
            }
            let Some(c) = self.peek() else {
                return false;
            };
            self.i += 1;
            match c {
                b'"' => return true,
                b'\\' => match self.peek() {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                    Some(b'u') => {
                        let hex = self.b.get(self.i + 1..self.i + 5);
                        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            return false;
                        }
                        self.i += 5;
                    }
                    _ => return false,
                },
                // Control characters must be escaped.
                0..=0x1f => return false,
                _ => {}
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let matched = self.b.get(self.i..).is_some_and(|r| r.starts_with(word));
        if matched {
            self.i += word.len();
        }
        matched
    }

    fn digits(&mut self) -> bool {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i > start
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> bool {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return false,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.digits() {
                return false;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.digits() {
                return false;
            }
        }
        true
    }
}

/// Whether any byte of `w` is `"`, `\\` or below 0x20 (may say yes for other bytes after
/// such a byte; never says no when one is there).
fn has_special(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let quote = zero(w ^ (ONES * u64::from(b'"')));
    let backslash = zero(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    (quote | backslash | control) != 0
}

#[cfg(test)]
mod tests;
