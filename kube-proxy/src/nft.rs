//! Running `nft`: one transaction per sync, fed on stdin (`nft -f -`), so the kernel applies
//! all of it or none of it.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Why a transaction failed.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    /// `nft` could not be started.
    #[error("running {bin}: {source}")]
    Spawn {
        /// The binary tried.
        bin: String,
        /// The cause.
        source: std::io::Error,
    },
    /// `nft` rejected the transaction; nothing was applied.
    #[error("nft failed ({status}): {stderr}")]
    Rejected {
        /// Exit status.
        status: String,
        /// nft's message (it names the failing line).
        stderr: String,
    },
}

/// Runs transactions through the `nft` binary, optionally inside a network namespace
/// (`ip netns exec NAME nft …`; the bench uses that to leave the host's ruleset alone).
#[derive(Debug, Clone)]
pub struct Nft {
    bin: PathBuf,
    netns: Option<String>,
}

impl Default for Nft {
    fn default() -> Self {
        Nft::new()
    }
}

impl Nft {
    /// `nft` from PATH, or /usr/sbin/nft.
    pub fn new() -> Nft {
        let bin = std::env::var_os("PATH")
            .and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join("nft"))
                    .find(|p| p.is_file())
            })
            .unwrap_or_else(|| PathBuf::from("/usr/sbin/nft"));
        Nft { bin, netns: None }
    }

    /// Run inside network namespace `name` (created with `ip netns add`).
    pub fn in_netns(mut self, name: &str) -> Nft {
        self.netns = Some(name.to_string());
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&self.bin);
                c
            }
            None => Command::new(&self.bin),
        };
        cmd.args(args);
        cmd
    }

    /// Apply `transaction` atomically.
    pub async fn apply(&self, transaction: &str) -> Result<(), NftError> {
        let mut child = self
            .command(&["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| NftError::Spawn {
                bin: self.bin.display().to_string(),
                source,
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            // A write error shows up as nft's failure below.
            let _ = stdin.write_all(transaction.as_bytes()).await;
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(|source| NftError::Spawn {
                bin: self.bin.display().to_string(),
                source,
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(NftError::Rejected {
                status: out.status.to_string(),
                stderr: truncate(String::from_utf8_lossy(&out.stderr).into_owned()),
            })
        }
    }

    /// Delete `table` (e.g. `ip kube-proxy`) if it exists.
    pub async fn delete_table(&self, table: &str) -> Result<(), NftError> {
        self.apply(&format!("add table {table}\ndelete table {table}\n"))
            .await
    }

    /// `nft list table TABLE` (for tests and debugging).
    pub async fn list_table(&self, table: &str) -> Result<String, NftError> {
        let mut args = vec!["list", "table"];
        args.extend(table.split_whitespace());
        let out = self
            .command(&args)
            .output()
            .await
            .map_err(|source| NftError::Spawn {
                bin: self.bin.display().to_string(),
                source,
            })?;
        if !out.status.success() {
            return Err(NftError::Rejected {
                status: out.status.to_string(),
                stderr: truncate(String::from_utf8_lossy(&out.stderr).into_owned()),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// nft echoes the failing line with context; keep logs readable on huge transactions.
fn truncate(mut s: String) -> String {
    const MAX: usize = 4000;
    if s.len() > MAX {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}
