//! One writer per folder: an advisory lock on `<folder>/.lock`, held while a process writes.
//!
//! A run folder is locked by the process that trains it, a grid folder (`compare`,
//! `reproduce`) by the process that coordinates the grid; a second process that tries to write
//! the same folder stops at once with [`LabError::Busy`], naming the holder written in the
//! lock file. The lock is `flock(2)` through [`std::fs::File::try_lock`]: the kernel releases
//! it when the holder exits, however it exits, so a crash never leaves a stale lock (the file
//! stays, unlocked). On a shared filesystem it excludes processes on other nodes only where the
//! filesystem implements `flock` across clients: NFS (v4, or v3 with a lock manager) maps it to
//! byte-range locks that do; Lustre does when mounted with `-o flock`; a filesystem mounted
//! with `local_lock` or `nolock` excludes only processes of the same node.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::Path;

use crate::LabError;

/// Locks `folder` (created if missing) for this process until the returned `.lock` file drops
/// (or the process ends); fails at once with [`LabError::Busy`] if another holds it.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let held = rgd_lab::lock::lock(dir.path()).unwrap();
/// let again = std::fs::File::open(dir.path().join(".lock")).unwrap();
/// assert!(again.try_lock().is_err(), "a second handle cannot take it");
/// drop(held);
/// assert!(again.try_lock().is_ok());
/// ```
pub fn lock(folder: &Path) -> Result<File, LabError> {
    std::fs::create_dir_all(folder).map_err(|e| LabError::io(folder, e))?;
    let path = folder.join(".lock");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| LabError::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = Some(holder.trim()).filter(|h| !h.is_empty());
            return Err(LabError::Busy {
                folder: folder.into(),
                holder: holder.unwrap_or("another process").into(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(LabError::io(&path, e)),
    }
    let holder = format!(
        "process {} on {} ({})\n",
        std::process::id(),
        hostname(),
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    file.set_len(0).map_err(|e| LabError::io(&path, e))?;
    file.write_all(holder.as_bytes())
        .map_err(|e| LabError::io(&path, e))?;
    Ok(file)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "an unknown host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_held_folder_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let _held = lock(dir.path()).unwrap();
        let e = lock(dir.path()).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(&format!("process {}", std::process::id())),
            "{text}"
        );
        assert_eq!(e.exit_code(), 75);
    }
}
