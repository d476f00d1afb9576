//! Envelope encryption for provider credentials: each row's secret is sealed with a data key of
//! its own (AES-256-GCM, the row id as associated data), and the data key is wrapped by the
//! key-encryption key (KEK, AES-256-GCM too). The KEK is named by a fingerprint stored with each
//! row, so a wrong KEK is a clear error and rotation re-wraps the data keys only.

use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

pub const KEY_BYTES: usize = 32;

/// A sealed secret as stored: nothing in it is readable without the KEK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The fingerprint of the KEK that wrapped `wrapped_key`.
    pub kek: String,
    /// The data key, wrapped: base64 of nonce ‖ ciphertext ‖ tag.
    pub wrapped_key: String,
    /// The secret under the data key: base64 of nonce ‖ ciphertext ‖ tag.
    pub ciphertext: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error("credentials are wrapped with key-encryption key {stored}, but the configured one is {configured}: configure the KEK they were stored with (or rotate them to this one with `switchyard vault rotate-kek`)")]
    WrongKek { stored: String, configured: String },
    #[error("a credential failed to decrypt: its row was altered or the KEK is not the one it was stored with")]
    Corrupt,
    #[error("no system random source")]
    Random,
    #[error("{0}")]
    Key(String),
}

/// The key-encryption key.
pub struct Kek {
    key: LessSafeKey,
    fingerprint: String,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek({})", self.fingerprint)
    }
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn unb64(s: &str) -> Result<Vec<u8>, VaultError> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| VaultError::Corrupt)
}

fn aes(bytes: &[u8]) -> Result<LessSafeKey, VaultError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::Key("an AES-256 key must be 32 bytes".into()))
}

fn seal(key: &LessSafeKey, aad: &[u8], plain: &[u8]) -> Result<String, VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| VaultError::Random)?;
    let mut buf = plain.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut buf,
    )
    .map_err(|_| VaultError::Corrupt)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    Ok(b64(&out))
}

fn open(key: &LessSafeKey, aad: &[u8], sealed: &str) -> Result<Vec<u8>, VaultError> {
    let bytes = unb64(sealed)?;
    let (nonce, ct) = bytes
        .split_at_checked(NONCE_LEN)
        .ok_or(VaultError::Corrupt)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Corrupt)?;
    let mut buf = ct.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| VaultError::Corrupt)?;
    Ok(plain.to_vec())
}

impl Kek {
    /// A KEK from its base64 text (at least 32 bytes; the first 32 are the key).
    pub fn from_base64(text: &str, from: &str) -> Result<Self, VaultError> {
        let t = text.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t))
            .map_err(|_| VaultError::Key(format!("{from}: not base64")))?;
        if bytes.len() != KEY_BYTES {
            return Err(VaultError::Key(format!(
                "{from}: {} bytes; a key-encryption key is exactly {KEY_BYTES} bytes (base64)",
                bytes.len()
            )));
        }
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VaultError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
        let fingerprint = digest.as_ref()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Ok(Self {
            key: aes(bytes)?,
            fingerprint: format!("kek-{fingerprint}"),
        })
    }

    /// 32 random bytes, base64: a new KEK's text.
    pub fn generate() -> Result<String, VaultError> {
        let mut bytes = [0u8; KEY_BYTES];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| VaultError::Random)?;
        Ok(b64(&bytes))
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Seals `plain` for the row `row_id` under a fresh data key.
    pub fn seal(&self, row_id: &str, plain: &[u8]) -> Result<Sealed, VaultError> {
        let mut dek = [0u8; KEY_BYTES];
        SystemRandom::new()
            .fill(&mut dek)
            .map_err(|_| VaultError::Random)?;
        let ciphertext = seal(&aes(&dek)?, row_id.as_bytes(), plain)?;
        let wrapped_key = seal(&self.key, row_id.as_bytes(), &dek)?;
        Ok(Sealed {
            kek: self.fingerprint.clone(),
            wrapped_key,
            ciphertext,
        })
    }

    fn data_key(&self, row_id: &str, s: &Sealed) -> Result<Vec<u8>, VaultError> {
        if s.kek != self.fingerprint {
            return Err(VaultError::WrongKek {
                stored: s.kek.clone(),
                configured: self.fingerprint.clone(),
            });
        }
        open(&self.key, row_id.as_bytes(), &s.wrapped_key)
    }

    /// The secret of row `row_id`.
    pub fn open(&self, row_id: &str, s: &Sealed) -> Result<Vec<u8>, VaultError> {
        let dek = self.data_key(row_id, s)?;
        open(&aes(&dek)?, row_id.as_bytes(), &s.ciphertext)
    }

    /// The same secret with its data key wrapped by `next` instead (the ciphertext is kept).
    pub fn rewrap(&self, row_id: &str, s: &Sealed, next: &Kek) -> Result<Sealed, VaultError> {
        let dek = self.data_key(row_id, s)?;
        Ok(Sealed {
            kek: next.fingerprint.clone(),
            wrapped_key: seal(&next.key, row_id.as_bytes(), &dek)?,
            ciphertext: s.ciphertext.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek() -> Kek {
        Kek::from_base64(&Kek::generate().unwrap(), "test").unwrap()
    }

    #[test]
    fn sealed_secrets_open_only_with_their_kek_and_row() {
        let k = kek();
        let s = k.seal("cred-1", b"sk-live-123").unwrap();
        assert!(!format!("{s:?}").contains("sk-live-123"));
        assert_eq!(k.open("cred-1", &s).unwrap(), b"sk-live-123");
        // Moved to another row: refused.
        assert_eq!(k.open("cred-2", &s), Err(VaultError::Corrupt));
        // Another KEK: named as wrong, not garbage.
        let other = kek();
        assert!(matches!(
            other.open("cred-1", &s),
            Err(VaultError::WrongKek { .. })
        ));
        // A flipped byte in the ciphertext: refused.
        let mut bad = s.clone();
        let mut raw = unb64(&bad.ciphertext).unwrap();
        raw[NONCE_LEN] ^= 1;
        bad.ciphertext = b64(&raw);
        assert_eq!(k.open("cred-1", &bad), Err(VaultError::Corrupt));
        // Two seals of the same secret differ.
        assert_ne!(k.seal("cred-1", b"sk-live-123").unwrap(), s);
    }

    #[test]
    fn rotation_rewraps_the_data_key_only() {
        let (old, new) = (kek(), kek());
        let s = old.seal("c", b"secret").unwrap();
        let r = old.rewrap("c", &s, &new).unwrap();
        assert_eq!(r.ciphertext, s.ciphertext);
        assert_eq!(r.kek, new.fingerprint());
        assert_eq!(new.open("c", &r).unwrap(), b"secret");
        assert!(old.open("c", &r).is_err());
    }

    #[test]
    fn bad_keks_are_named() {
        let e = Kek::from_base64("c2hvcnQ=", "SWITCHYARD_KEK").unwrap_err();
        assert!(e.to_string().contains("SWITCHYARD_KEK: 5 bytes"), "{e}");
        assert!(Kek::from_base64("%%", "f")
            .unwrap_err()
            .to_string()
            .contains("not base64"));
    }
}
