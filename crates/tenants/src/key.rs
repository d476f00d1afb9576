//! Virtual keys: `sk-sy-<id>-<secret><check>`.
//!
//! - `<id>`: 12 base62 characters, the key's public id (what lists, logs and the audit show).
//! - `<secret>`: 32 base62 characters from the system's random source (190 bits).
//! - `<check>`: 6 base62 characters of the CRC-32 of everything before it, so a secret scanner
//!   (or the gateway, before any lookup) tells a real key from a typo or a lookalike.
//!
//! Only a keyed hash of the whole key is stored (HMAC-SHA256 with the server secret), so a copy
//! of the database cannot confirm a guess without the secret too.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

pub const PREFIX: &str = "sk-sy-";
const ID_LEN: usize = 12;
const SECRET_LEN: usize = 32;
const CHECK_LEN: usize = 6;
/// The whole key's length.
pub const KEY_LEN: usize = PREFIX.len() + ID_LEN + 1 + SECRET_LEN + CHECK_LEN;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` base62 characters from the system's random source (bytes ≥ 248 are redrawn, so every
/// character is equally likely).
pub fn random_base62(n: usize) -> Result<String, ring::error::Unspecified> {
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        rng.fill(&mut buf)?;
        for b in buf {
            if b < 248 && out.len() < n {
                out.push(char::from(BASE62[usize::from(b % 62)]));
            }
        }
    }
    Ok(out)
}

fn check(body: &str) -> String {
    let mut v = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Admin keys created through the API: the same layout under their own prefix.
pub const ADMIN_PREFIX: &str = "sk-sya-";

/// A new key for public id `id` (itself from [`new_id`]).
pub fn new_key(id: &str) -> Result<String, ring::error::Unspecified> {
    new_key_with(PREFIX, id)
}

/// A new key under `prefix` ([`PREFIX`] or [`ADMIN_PREFIX`]).
pub fn new_key_with(prefix: &str, id: &str) -> Result<String, ring::error::Unspecified> {
    let body = format!("{prefix}{id}-{}", random_base62(SECRET_LEN)?);
    let check = check(&body);
    Ok(body + &check)
}

/// A new public id.
pub fn new_id() -> Result<String, ring::error::Unspecified> {
    random_base62(ID_LEN)
}

/// The public id of a well-formed key (prefix, lengths, alphabet and checksum right); None for
/// anything else, which then is not a virtual key (it may be a static key from the config).
pub fn public_id(key: &str) -> Option<&str> {
    public_id_with(PREFIX, key)
}

/// As [`public_id`], for keys under `prefix`.
pub fn public_id_with<'a>(prefix: &str, key: &'a str) -> Option<&'a str> {
    let len = prefix.len() + ID_LEN + 1 + SECRET_LEN + CHECK_LEN;
    if key.len() != len || !key.is_char_boundary(len - CHECK_LEN) {
        return None;
    }
    let rest = key.strip_prefix(prefix)?;
    let (id, tail) = rest.split_at_checked(ID_LEN)?;
    let secret_and_check = tail.strip_prefix('-')?;
    let base62 = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
    if !base62(id) || !base62(secret_and_check) {
        return None;
    }
    let (body, sum) = key.split_at(len - CHECK_LEN);
    (check(body) == sum).then_some(id)
}

/// The server secret that keys are hashed with.
#[derive(Clone)]
pub struct Hasher(hmac::Key);

impl Hasher {
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// The stored form of a key.
    pub fn hash(&self, key: &str) -> [u8; 32] {
        let tag = hmac::sign(&self.0, key.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_well_formed_and_names_its_id() {
        let id = new_id().unwrap();
        let key = new_key(&id).unwrap();
        assert_eq!(key.len(), KEY_LEN);
        assert!(key.starts_with("sk-sy-"));
        assert_eq!(public_id(&key), Some(id.as_str()));
        assert_ne!(new_key(&id).unwrap(), key);
    }

    #[test]
    fn typos_and_lookalikes_are_not_keys() {
        let key = new_key(&new_id().unwrap()).unwrap();
        // One character changed anywhere after the prefix breaks the checksum.
        for at in [PREFIX.len(), PREFIX.len() + 13, KEY_LEN - 1] {
            let mut b = key.clone().into_bytes();
            b[at] = if b[at] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(b).unwrap();
            assert_eq!(public_id(&typo), None, "{typo}");
        }
        for other in [
            "",
            "sk-sy-",
            "sk-proj-abc",
            &key[..KEY_LEN - 1],
            &format!("{key}x"),
        ] {
            assert_eq!(public_id(other), None, "{other}");
        }
        let not_ascii = format!("{}é{}", &key[..20], &key[22..]);
        assert_eq!(public_id(&not_ascii), None);
    }

    #[test]
    fn the_hash_depends_on_the_server_secret() {
        let key = new_key(&new_id().unwrap()).unwrap();
        let a = Hasher::new(b"secret-a");
        assert_eq!(a.hash(&key), a.hash(&key));
        assert_ne!(a.hash(&key), Hasher::new(b"secret-b").hash(&key));
    }

    #[test]
    fn random_characters_use_the_whole_alphabet() {
        let s = random_base62(20_000).unwrap();
        for c in BASE62 {
            assert!(s.as_bytes().contains(c), "{}", char::from(*c));
        }
    }
}
