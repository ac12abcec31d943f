//! `kubectl cp <src> <dest>`: copies files to and from containers with `tar` run through
//! `exec`, as upstream does (the container must have a `tar` binary). A remote side is
//! written `[namespace/]pod:path`.

use std::path::{Component, Path, PathBuf};

use clap::Args;
use serde_json::Value;

use super::attachable::container_for;
use super::exec::exec_path;
use super::Ctx;
use crate::client::ApiClient;
use crate::error::{KubectlError, Result};
use crate::remote::{self, Errors, Input, Output, RemoteError, Session};

/// `kubectl cp`
#[derive(Debug, Args)]
pub struct CpArgs {
    /// Source and destination.
    args: Vec<String>,
    /// Container name. If omitted, use the kubectl.kubernetes.io/default-container
    /// annotation, else the first container in the pod.
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// The copied file/directory's ownership and permissions will not be preserved in the
    /// container.
    #[arg(long)]
    no_preserve: bool,
    /// Accepted for compatibility: the copy is not resumed after a failure.
    #[arg(long, default_value_t = 0)]
    retries: i32,
}

/// One side of a copy.
#[derive(Debug, PartialEq, Eq)]
enum FileSpec {
    /// A path on this machine.
    Local(String),
    /// A path in a pod's container.
    Remote {
        namespace: Option<String>,
        pod: String,
        path: String,
    },
}

/// Upstream's extractFileSpec: `[namespace/]pod:path` is remote, anything without `:` local.
fn parse_spec(arg: &str) -> Result<FileSpec> {
    let Some((pod, path)) = arg.split_once(':') else {
        return Ok(FileSpec::Local(arg.to_string()));
    };
    let pieces: Vec<&str> = pod.split('/').collect();
    match pieces.as_slice() {
        [pod] => Ok(FileSpec::Remote {
            namespace: None,
            pod: pod.to_string(),
            path: path.to_string(),
        }),
        [ns, pod] => Ok(FileSpec::Remote {
            namespace: Some(ns.to_string()),
            pod: pod.to_string(),
            path: path.to_string(),
        }),
        _ => Err(KubectlError::usage(
            "filespec must match the canonical format: [[namespace/]pod:]file/path",
        )),
    }
}

/// Runs `kubectl cp`.
pub async fn run(ctx: &Ctx, a: CpArgs) -> Result<()> {
    let [src, dest] = a.args.as_slice() else {
        return Err(KubectlError::usage(
            "source and destination are required\nSee 'kubectl cp -h' for help and examples",
        ));
    };
    let (src, dest) = (parse_spec(src)?, parse_spec(dest)?);
    let path_of = |s: &FileSpec| match s {
        FileSpec::Local(p) => p.clone(),
        FileSpec::Remote { path, .. } => path.clone(),
    };
    match (&src, &dest) {
        (FileSpec::Remote { .. }, FileSpec::Remote { .. }) => {
            return Err(KubectlError::usage(
                "one of src or dest must be a local file specification",
            ))
        }
        _ if path_of(&src).is_empty() || path_of(&dest).is_empty() => {
            return Err(KubectlError::usage("filepath can not be empty"))
        }
        (FileSpec::Local(_), FileSpec::Local(_)) => {
            return Err(KubectlError::usage(
                "one of src or dest must be a remote file specification",
            ))
        }
        _ => {}
    }
    let client = ctx.client().await?;
    match (src, dest) {
        (
            FileSpec::Remote {
                namespace,
                pod,
                path,
            },
            FileSpec::Local(local),
        ) => {
            let target = Target::get(&client, namespace, &pod, a.container.as_deref()).await?;
            copy_from_pod(&client, &target, &path, Path::new(&local)).await
        }
        (
            FileSpec::Local(local),
            FileSpec::Remote {
                namespace,
                pod,
                path,
            },
        ) => {
            let target = Target::get(&client, namespace, &pod, a.container.as_deref()).await?;
            copy_to_pod(&client, &target, Path::new(&local), &path, a.no_preserve).await
        }
        _ => Ok(()),
    }
}

/// The pod and container commands run in.
struct Target {
    pod: Value,
    container: String,
}

impl Target {
    async fn get(
        client: &ApiClient,
        namespace: Option<String>,
        pod: &str,
        container: Option<&str>,
    ) -> Result<Target> {
        let ns = namespace.unwrap_or_else(|| client.namespace.clone());
        let pod = client
            .get(&format!("/api/v1/namespaces/{ns}/pods/{pod}"))
            .await?;
        super::exec::refuse_completed(&pod, "exec into")?;
        let container = match container.filter(|c| !c.is_empty()) {
            Some(c) => c.to_string(),
            None => container_for(&pod, None, false)?,
        };
        Ok(Target { pod, container })
    }

    fn exec(&self, command: &[&str], stdin: bool) -> String {
        let command: Vec<String> = command.iter().map(|c| c.to_string()).collect();
        exec_path(&self.pod, &self.container, &command, stdin, false)
    }
}

/// `tar cf - <path>` in the container, unpacked under `dest` (upstream's copyFromPod).
async fn copy_from_pod(client: &ApiClient, target: &Target, src: &str, dest: &Path) -> Result<()> {
    let mut archive = Vec::new();
    let session = Session {
        input: Input::None,
        output: Output::Buffer(&mut archive),
        errors: Errors::Stdout,
        tty: false,
        redraw: false,
    };
    remote::run(
        client,
        &target.exec(&["tar", "cf", "-", src], false),
        session,
    )
    .await?;
    let prefix = archive_prefix(src);
    let ns = target.pod["metadata"]["namespace"].as_str().unwrap_or("");
    let pod = target.pod["metadata"]["name"].as_str().unwrap_or("");
    untar(&archive, &prefix, dest, |link_path, link_target, first| {
        if first {
            format!(
                "warning: skipping symlink: {link_path:?} -> {link_target:?} (consider using \"kubectl exec -n {ns:?} {pod:?} -- tar cf - {src:?} | tar xf -\")"
            )
        } else {
            format!("warning: skipping symlink: {link_path:?} -> {link_target:?}")
        }
    })
}

/// The member-name prefix `tar cf - <src>` writes: the path without leading slashes,
/// cleaned, and without leading `../` or `./` (upstream's stripPathShortcuts).
fn archive_prefix(src: &str) -> String {
    let cleaned = clean(src.trim_start_matches('/'));
    let mut rest = cleaned.as_str();
    loop {
        if let Some(r) = rest.strip_prefix("../") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("./") {
            rest = r;
        } else {
            break;
        }
    }
    match rest {
        ".." | "." => String::new(),
        r => r.to_string(),
    }
}

/// `path.Clean` for slash-separated paths.
fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Unpacks `archive`, whose members all start with `prefix`, so that `prefix` itself lands
/// at `dest`. Symlinks are skipped with a warning (`warn(path, target, first)` words it)
/// and members that would land outside `dest` are refused.
fn untar(
    archive: &[u8],
    prefix: &str,
    dest: &Path,
    warn: impl Fn(&str, &str, bool) -> String,
) -> Result<()> {
    let io = |e: std::io::Error| KubectlError::usage(e.to_string());
    let mut reader = tar::Archive::new(archive);
    let mut warned = false;
    for entry in reader.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(rest) = name.strip_prefix(prefix) else {
            return Err(KubectlError::usage("tar contents corrupted"));
        };
        let target = join_inside(dest, rest);
        let shown = target.clone().unwrap_or_else(|| dest.join(rest));
        let Some(target) = target else {
            eprintln!(
                "warning: file {:?} is outside target destination, skipping",
                shown.display().to_string()
            );
            continue;
        };
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(io)?;
            continue;
        }
        if kind.is_symlink() {
            let link = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            eprintln!("{}", warn(&target.display().to_string(), &link, !warned));
            warned = true;
            continue;
        }
        let mut file = std::fs::File::create(&target).map_err(io)?;
        std::io::copy(&mut entry, &mut file).map_err(io)?;
    }
    Ok(())
}

/// `dest` joined with the member's remaining path, or `None` when `..` would leave `dest`.
fn join_inside(dest: &Path, rest: &str) -> Option<PathBuf> {
    let mut depth: i32 = 0;
    let mut out = dest.to_path_buf();
    for c in Path::new(rest.trim_start_matches('/')).components() {
        match c {
            Component::Normal(part) => {
                depth += 1;
                out.push(part);
            }
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
                out.pop();
            }
            _ => {}
        }
    }
    Some(out)
}

/// A local file or directory sent as a tar archive to `tar -xmf - -C <dir>` in the
/// container (upstream's copyToPod). An existing remote directory receives the source
/// under its own name.
async fn copy_to_pod(
    client: &ApiClient,
    target: &Target,
    src: &Path,
    dest: &str,
    no_preserve: bool,
) -> Result<()> {
    if std::fs::symlink_metadata(src).is_err() {
        return Err(KubectlError::usage(format!(
            "{} doesn't exist in local filesystem",
            src.display()
        )));
    }
    let mut dest = clean(dest);
    if remote_is_dir(client, target, &dest).await? {
        let base = src
            .file_name()
            .map(|b| b.to_string_lossy().into_owned())
            .unwrap_or_default();
        dest = clean(&format!("{dest}/{base}"));
    }
    let (dir, base) = match dest.rsplit_once('/') {
        Some(("", base)) => ("/".to_string(), base.to_string()),
        Some((dir, base)) => (dir.to_string(), base.to_string()),
        None => (".".to_string(), dest.clone()),
    };
    let archive = make_tar(src, &base).map_err(|e| KubectlError::usage(e.to_string()))?;
    let mut command = vec!["tar"];
    if no_preserve {
        command.extend(["--no-same-permissions", "--no-same-owner"]);
    }
    command.extend(["-xmf", "-", "-C", &dir]);
    let session = Session {
        input: Input::Bytes(archive),
        output: Output::Stdout,
        errors: Errors::Stderr,
        tty: false,
        redraw: false,
    };
    remote::run(client, &target.exec(&command, true), session).await
}

/// Whether `path` is a directory in the container (`test -d`; any failure means no).
async fn remote_is_dir(client: &ApiClient, target: &Target, path: &str) -> Result<bool> {
    let mut discard = Vec::new();
    let session = Session {
        input: Input::None,
        output: Output::Buffer(&mut discard),
        errors: Errors::Discard,
        tty: false,
        redraw: false,
    };
    match remote::run(client, &target.exec(&["test", "-d", path], false), session).await {
        Ok(()) => Ok(true),
        Err(KubectlError::Remote(RemoteError::ExitCode(_))) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A tar archive of `src` whose members are named from `name` down (upstream's makeTar):
/// files and symlinks as themselves, directories through their contents, an empty
/// directory as itself.
fn make_tar(src: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    add_to_tar(&mut builder, src, name)?;
    builder.into_inner()
}

fn add_to_tar(builder: &mut tar::Builder<Vec<u8>>, path: &Path, name: &str) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        let mut children: Vec<_> = std::fs::read_dir(path)?.collect::<std::io::Result<_>>()?;
        if children.is_empty() {
            return builder.append_dir(name, path);
        }
        children.sort_by_key(|c| c.file_name());
        for child in children {
            let child_name = format!("{name}/{}", child.file_name().to_string_lossy());
            add_to_tar(builder, &child.path(), &child_name)?;
        }
        return Ok(());
    }
    builder.append_path_with_name(path, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_specs_as_upstream() {
        assert_eq!(parse_spec("./a").unwrap(), FileSpec::Local("./a".into()));
        assert_eq!(
            parse_spec("web:/etc/hosts").unwrap(),
            FileSpec::Remote {
                namespace: None,
                pod: "web".into(),
                path: "/etc/hosts".into()
            }
        );
        assert_eq!(
            parse_spec("ns/web:x").unwrap(),
            FileSpec::Remote {
                namespace: Some("ns".into()),
                pod: "web".into(),
                path: "x".into()
            }
        );
        assert!(parse_spec("a/b/c:x").is_err());
    }

    #[test]
    fn archive_prefixes_drop_leading_slashes_and_shortcuts() {
        assert_eq!(archive_prefix("/etc/hosts"), "etc/hosts");
        assert_eq!(archive_prefix("/tmp/dir/"), "tmp/dir");
        assert_eq!(archive_prefix("../x/./y"), "x/y");
        assert_eq!(archive_prefix("./a"), "a");
        assert_eq!(clean("/a/../../b"), "/b");
        assert_eq!(clean("a/../.."), "..");
    }

    #[test]
    fn members_cannot_escape_the_destination() {
        let dest = Path::new("/tmp/d");
        assert_eq!(join_inside(dest, "/x/y"), Some(PathBuf::from("/tmp/d/x/y")));
        assert_eq!(join_inside(dest, ""), Some(PathBuf::from("/tmp/d")));
        assert_eq!(join_inside(dest, "/../evil"), None);
        assert_eq!(join_inside(dest, "/a/../../evil"), None);
    }

    #[test]
    fn a_directory_round_trips_through_tar() {
        let src = tempfile::tempdir().unwrap();
        let root = src.path().join("data");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("a.txt"), b"alpha").unwrap();
        std::fs::write(root.join("sub/b.txt"), b"beta").unwrap();
        std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
        let archive = make_tar(&root, "tmp/data").unwrap();

        let dest = tempfile::tempdir().unwrap();
        let out_dir = dest.path().join("copy");
        untar(&archive, "tmp/data", &out_dir, |p, t, _| {
            format!("skip {p} {t}")
        })
        .unwrap();
        assert_eq!(std::fs::read(out_dir.join("a.txt")).unwrap(), b"alpha");
        assert_eq!(std::fs::read(out_dir.join("sub/b.txt")).unwrap(), b"beta");
        assert!(out_dir.join("empty").is_dir());
        assert!(!out_dir.join("link").exists(), "symlinks are skipped");

        let err = untar(&archive, "other", &out_dir, |p, t, _| format!("{p}{t}")).unwrap_err();
        assert_eq!(err.to_string(), "error: tar contents corrupted");
    }
}
