//! The vault's master key: 32 bytes from `MOXXY_MASTER_KEY`, from `<data>/master.key`, or made
//! at first start and written there (mode 0600) with a warning from the caller.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::TryRngCore;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretBox};

use super::VaultError;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "master.key";
/// Bytes in a master key (XChaCha20-Poly1305's key size).
pub const KEY_LEN: usize = 32;
/// A key file is a line of base64; anything much longer is not one.
const MAX_KEY_FILE_LEN: u64 = 1024;

/// The vault's master key. Zeroized when dropped; its `Debug` prints `MasterKey(*****)` and it
/// has no `Display`, `Serialize` or `Clone`.
pub struct MasterKey(SecretBox<[u8; KEY_LEN]>);

/// Where the master key came from, so start-up can say so (and warn about a generated one:
/// losing that file loses every secret in the vault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `MOXXY_MASTER_KEY`.
    Env,
    /// An existing key file.
    File(PathBuf),
    /// Made now and written to this file.
    Generated(PathBuf),
}

impl MasterKey {
    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> MasterKey {
        let bytes = Zeroizing::new(bytes);
        Self::from_array(&bytes)
    }

    /// A new random key from the operating system's CSPRNG.
    pub fn generate() -> Result<MasterKey, VaultError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rand::rngs::OsRng
            .try_fill_bytes(bytes.as_mut())
            .map_err(|err| VaultError::KeyRandom {
                reason: err.to_string(),
            })?;
        Ok(Self::from_array(&bytes))
    }

    /// Finds the key: `env_value` (the value of `MOXXY_MASTER_KEY`, base64 of 32 bytes) if
    /// given; else `<data_dir>/master.key` (mode 0600 or stricter); else a new key written to
    /// that file atomically. A key file that exists but cannot be used is an error, never
    /// replaced: the vault's secrets are sealed with it.
    pub fn load(
        data_dir: &Path,
        env_value: Option<&str>,
    ) -> Result<(MasterKey, KeySource), VaultError> {
        if let Some(value) = env_value {
            let key = Self::from_base64(value).map_err(|reason| VaultError::EnvKey { reason })?;
            return Ok((key, KeySource::Env));
        }
        let path = data_dir.join(KEY_FILE);
        if let Some(key) = read_key_file(&path)? {
            return Ok((key, KeySource::File(path)));
        }
        let key = Self::generate()?;
        if write_key_file(data_dir, &path, &key)? {
            return Ok((key, KeySource::Generated(path)));
        }
        // Another process wrote its key first: use that one, so both agree.
        match read_key_file(&path)? {
            Some(key) => Ok((key, KeySource::File(path))),
            None => Err(VaultError::KeyFile {
                path,
                reason: "it disappeared while being created; start moxxy again".to_string(),
            }),
        }
    }

    /// Parses base64 (standard or URL-safe, padded or not) of exactly 32 bytes. The error says
    /// what is wrong without repeating the value.
    fn from_base64(text: &str) -> Result<MasterKey, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("it is empty".to_string());
        }
        let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .map(Zeroizing::new)
            .ok_or_else(|| "it is not valid base64".to_string())?;
        match <&[u8; KEY_LEN]>::try_from(decoded.as_slice()) {
            Ok(bytes) => Ok(Self::from_array(bytes)),
            Err(_) => Err(format!(
                "it decodes to {} bytes, not {KEY_LEN}",
                decoded.len()
            )),
        }
    }

    fn from_array(bytes: &[u8; KEY_LEN]) -> MasterKey {
        MasterKey(SecretBox::init_with_mut(|key: &mut [u8; KEY_LEN]| {
            key.copy_from_slice(bytes)
        }))
    }

    /// The raw key, for the cipher.
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(*****)")
    }
}

/// Reads the key file, or `None` if there is none. Refuses a file others can read or write.
fn read_key_file(path: &Path) -> Result<Option<MasterKey>, VaultError> {
    let file_err = |reason: String| VaultError::KeyFile {
        path: path.to_path_buf(),
        reason,
    };
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(file_err(err.to_string())),
    };
    if !meta.is_file() {
        return Err(file_err("it is not a regular file".to_string()));
    }
    check_private(path, &meta)?;
    let mut text = Zeroizing::new(String::new());
    File::open(path)
        .and_then(|file| file.take(MAX_KEY_FILE_LEN).read_to_string(&mut text))
        .map_err(|err| file_err(err.to_string()))?;
    MasterKey::from_base64(&text).map(Some).map_err(|reason| {
        file_err(format!(
            "{reason}; it must hold base64 of {KEY_LEN} bytes. Restore it from a backup: the \
             vault cannot be opened without it"
        ))
    })
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<(), VaultError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(VaultError::KeyFileMode {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &fs::Metadata) -> Result<(), VaultError> {
    Ok(())
}

/// Writes a new key file atomically: a temporary file (mode 0600) is written and synced, then
/// linked into place only if no key file exists, and the directory synced. Answers `false` if
/// another process's key file got there first (it is kept).
fn write_key_file(dir: &Path, path: &Path, key: &MasterKey) -> Result<bool, VaultError> {
    let file_err = |err: std::io::Error| VaultError::KeyFile {
        path: path.to_path_buf(),
        reason: format!("cannot write it: {err}"),
    };
    crate::store::create_private_dir(dir).map_err(file_err)?;
    let tmp = dir.join(format!(".{KEY_FILE}.{}.tmp", std::process::id()));
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(file_err(err)),
    }
    let mut text = Zeroizing::new(STANDARD.encode(key.bytes()));
    text.push('\n');
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    if let Err(err) = written {
        let _ = fs::remove_file(&tmp);
        return Err(file_err(err));
    }
    let placed = match fs::hard_link(&tmp, path) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == ErrorKind::AlreadyExists => Ok(false),
        // A filesystem without hard links: a rename is still atomic.
        Err(_) => fs::rename(&tmp, path).map(|()| true),
    };
    let _ = fs::remove_file(&tmp);
    let placed = placed.map_err(file_err)?;
    if placed {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(file_err)?;
    }
    Ok(placed)
}
