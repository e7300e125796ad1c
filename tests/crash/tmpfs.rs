//! A small tmpfs for a data directory, made without privileges: a holder process in a new user
//! and mount namespace (`unshare --user --map-root-user --mount`) mounts it and sleeps; the
//! server runs in that namespace through `nsenter`. The mount exists only there and goes away
//! with the holder, which is killed on drop.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

/// How long the holder keeps the namespace if a test never drops it (a hung test).
const HOLD_SECONDS: u32 = 600;

/// A mounted tmpfs; dropped, its holder dies and the mount with it.
pub struct Tmpfs {
    holder: Child,
    dir: PathBuf,
    _root: TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `mib` MiB on a new directory; `Err` says why it could not.
    pub fn mount(mib: u64) -> Result<Tmpfs, String> {
        let root = tempfile::Builder::new()
            .prefix("moxxy-full-disk-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let dir = root.path().join("disk");
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create {dir:?}: {e}"))?;
        let script = format!(
            "mount -t tmpfs -o size={mib}m,mode=0700 moxxy-test '{}' && echo mounted && exec sleep {HOLD_SECONDS}",
            dir.display()
        );
        let mut holder = Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run `unshare` (util-linux): {e}"))?;
        let mut line = String::new();
        if let Some(stdout) = holder.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        if line.trim() != "mounted" {
            let _ = holder.kill();
            let status = holder.wait();
            let mut stderr = String::new();
            if let Some(mut pipe) = holder.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            return Err(format!(
                "`unshare --user --map-root-user --mount` + `mount -t tmpfs` failed ({status:?}): {}",
                stderr.trim()
            ));
        }
        Ok(Tmpfs {
            holder,
            dir,
            _root: root,
        })
    }

    /// The mount point (the data directory goes below it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The command prefix that runs a program inside the namespace.
    pub fn enter(&self) -> Vec<String> {
        let pid = self.holder.id().to_string();
        ["nsenter", "--target", &pid, "--user", "--mount", "--"]
            .iter()
            .map(|part| (*part).to_string())
            .collect()
    }

    /// Runs `program args` inside the namespace; panics with its output if it fails.
    fn run(&self, args: &[&str]) -> String {
        let enter = self.enter();
        let output = Command::new(&enter[0])
            .args(&enter[1..])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {args:?} in the namespace: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{args:?} in the namespace failed: {}\n{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// Fills what is left of the tmpfs with the file `name` (as another process filling the
    /// disk would).
    pub fn fill(&self, name: &str) {
        let path = self.dir.join(name).to_string_lossy().into_owned();
        let script = format!("dd if=/dev/zero of='{path}' bs=64k 2>/dev/null; test -s '{path}'");
        self.run(&["sh", "-c", &script]);
    }

    /// Removes the file `name` from the tmpfs.
    pub fn remove(&self, name: &str) {
        let path = self.dir.join(name).to_string_lossy().into_owned();
        self.run(&["rm", "-f", &path]);
    }

    /// Grows (or shrinks) the tmpfs to `mib` MiB: frees space without touching a file.
    pub fn resize(&self, mib: u64) {
        let dir = self.dir.to_string_lossy().into_owned();
        self.run(&["mount", "-o", &format!("remount,size={mib}m"), &dir]);
    }

    /// `df` of the tmpfs, for messages.
    pub fn usage(&self) -> String {
        let dir = self.dir.to_string_lossy().into_owned();
        self.run(&["df", "-k", &dir])
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
