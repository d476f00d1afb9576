//! The server secret virtual keys are hashed with: `SWITCHYARD_SECRET_KEY` (base64 of at least
//! 32 bytes), else a file holding the same; the single binary creates the file (mode 0600) on
//! first start, so it runs with zero setup. Lose it and every virtual key must be rotated.

use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use std::io::Write;
use std::path::Path;

pub const MIN_BYTES: usize = 32;

fn decode(text: &str, from: &str) -> Result<Vec<u8>, String> {
    let t = text.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t))
        .map_err(|_| format!("{from}: not base64"))?;
    if bytes.len() < MIN_BYTES {
        return Err(format!(
            "{from}: {} bytes; the secret must be at least {MIN_BYTES} bytes (base64)",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// The secret from `env` (the value of the variable `env_name`) or `file`, creating the file
/// when it does not exist. The key-encryption key is read the same way.
pub fn load_or_create(env: Option<&str>, env_name: &str, file: &Path) -> Result<Vec<u8>, String> {
    if let Some(v) = env {
        return decode(v, env_name);
    }
    match std::fs::read_to_string(file) {
        Ok(text) => decode(&text, &file.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(file),
        Err(e) => Err(format!("{}: {e}", file.display())),
    }
}

fn create(file: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = vec![0u8; MIN_BYTES];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "no system random source for the server secret".to_owned())?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(file)
        .map_err(|e| format!("creating {}: {e}", file.display()))?;
    let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
    f.write_all(format!("{text}\n").as_bytes())
        .map_err(|e| format!("writing {}: {e}", file.display()))?;
    // Kept out of stderr's first line (the start-up line).
    tracing::debug!("created {} (keep it with your backups)", file.display());
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_read_back() {
        let dir = std::env::temp_dir().join(format!("sy-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("switchyard.secret");
        let _ = std::fs::remove_file(&file);
        let a = load_or_create(None, "SWITCHYARD_SECRET_KEY", &file).unwrap();
        assert_eq!(a.len(), MIN_BYTES);
        assert_eq!(
            load_or_create(None, "SWITCHYARD_SECRET_KEY", &file).unwrap(),
            a
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_environment_wins_and_short_secrets_are_refused() {
        let long = base64::engine::general_purpose::STANDARD.encode([7u8; 40]);
        let missing = Path::new("/nonexistent/dir/secret");
        assert_eq!(
            load_or_create(Some(&long), "SWITCHYARD_SECRET_KEY", missing).unwrap(),
            vec![7u8; 40]
        );
        let short = base64::engine::general_purpose::STANDARD.encode([7u8; 8]);
        let e = load_or_create(Some(&short), "SWITCHYARD_SECRET_KEY", missing).unwrap_err();
        assert!(e.contains("at least 32 bytes"), "{e}");
        assert!(
            load_or_create(Some("%%%"), "SWITCHYARD_SECRET_KEY", missing)
                .unwrap_err()
                .contains("not base64")
        );
    }
}
