//! The objects a `set` command changes, found as upstream's resource builder finds them:
//! from the server by `TYPE NAME` words (with `-l`/`--all`), from the server by the `-f`
//! manifests' names, or, with `--local`, the manifests themselves.

use std::path::Path;

use serde_json::Value;

use super::typed::as_typed;
use crate::client::ApiClient;
use crate::cmd::create::FileArgs;
use crate::cmd::label::{file_targets, resolve_targets, Target};
use crate::cmd::Ctx;
use crate::error::{KubectlError, Result};
use crate::manifest;
use crate::resource::ApiResource;

/// Upstream's `LocalResourceError`: `--local` takes objects from `-f` only.
pub const LOCAL_RESOURCE_ERROR: &str = "you must specify resources by --filename when --local is set.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'";

/// The builder's answer when neither words nor files name an object.
const MISSING_RESOURCE_ERROR: &str = "You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'";

/// How a command picks its objects.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// `TYPE NAME…` / `TYPE/NAME…` words (ignored with `--local`: the caller refuses them
    /// first where upstream does).
    pub words: &'a [String],
    /// `-f`/`-R`
    pub files: &'a FileArgs,
    /// `-l`
    pub selector: Option<&'a str>,
    /// `--all`
    pub all: bool,
    /// `--local`
    pub local: bool,
}

/// One object found (as its typed form shows it, so that what a command compares and
/// prints is what upstream compares and prints), and where it lives on the server (None
/// with `--local`).
#[derive(Debug, Clone)]
pub struct Info {
    /// The object as read.
    pub object: Value,
    /// Its resource and path, when it came from the server.
    pub remote: Option<Remote>,
}

/// Where a server object is.
#[derive(Debug, Clone)]
pub struct Remote {
    /// Its resource type.
    pub res: ApiResource,
    /// Its API path.
    pub path: String,
}

impl Info {
    /// Upstream's `Info.ObjectName()`: `plural/name` for server objects; for local ones
    /// `kind/name`, or `kind.group/name` with the newline upstream's version ends it with.
    pub fn object_name(&self) -> String {
        let name = self.object["metadata"]["name"].as_str().unwrap_or_default();
        if let Some(r) = &self.remote {
            return format!("{}/{name}", r.res.plural);
        }
        let kind = self.object["kind"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        match self.object["apiVersion"]
            .as_str()
            .and_then(|v| v.rsplit_once('/'))
        {
            Some((group, _)) => format!("{kind}.{group}/{name}\n"),
            None => format!("{kind}/{name}"),
        }
    }
}

/// The objects found, the client that found them (None with `--local`), the namespace the
/// command runs in, and the objects that could not be read.
pub struct Found {
    /// The objects, in the order named.
    pub infos: Vec<Info>,
    /// The server, unless `--local`.
    pub client: Option<ApiClient>,
    /// The namespace of the command (the context's, or `-n`).
    pub namespace: String,
    /// Objects named but not read (a missing object, an unknown type).
    pub errors: Vec<KubectlError>,
}

impl Found {
    /// Upstream's `Infos()`: when any object named could not be read, the command reports
    /// why and changes none.
    pub fn all_or_nothing(mut self) -> Result<Self> {
        super::report(std::mem::take(&mut self.errors))?;
        Ok(self)
    }
}

/// Finds the objects `sel` names.
pub async fn find(ctx: &Ctx, sel: Selection<'_>) -> Result<Found> {
    let files = sel.files;
    check_paths(files)?;
    if sel.local {
        return find_local(ctx, files);
    }
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let namespace = client.namespace.clone();
    let targets: Vec<Target> = if files.filename.is_empty() {
        check_words(sel.words, sel.selector.filter(|s| !s.is_empty()))?;
        resolve_targets(&client, &mut disc, sel.words, sel.selector, sel.all)
            .await?
            .into_iter()
            .map(|(res, name)| Target {
                namespace: res.namespaced.then(|| namespace.clone()),
                res,
                name,
            })
            .collect()
    } else {
        if sel.words.iter().any(|w| w.contains('/')) {
            return Err(KubectlError::usage(
                "resource/name arguments cannot be provided when a path is specified",
            ));
        }
        if !sel.words.is_empty() {
            return Err(KubectlError::usage(
                "when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well",
            ));
        }
        file_targets(&client, &disc, files)?
    };
    let mut infos = Vec::new();
    let mut errors = Vec::new();
    for t in targets {
        let path = t.path();
        match client.get(&path).await {
            Ok(object) => infos.push(Info {
                object: as_typed(object),
                remote: Some(Remote { res: t.res, path }),
            }),
            Err(e) => errors.push(e),
        }
    }
    Ok(Found {
        infos,
        client: Some(client),
        namespace,
        errors,
    })
}

/// The builder's refusals of words that name no objects, or that a selector cannot filter.
fn check_words(words: &[String], selector: Option<&str>) -> Result<()> {
    let refusal = match (words, selector) {
        ([], None) => MISSING_RESOURCE_ERROR,
        ([], Some(_)) => "at least one resource must be specified to use a selector",
        (w, Some(_)) if w.iter().any(|w| w.contains('/')) => {
            "selectors and the all flag cannot be used when passing resource/name arguments"
        }
        ([_, _, ..], Some(_)) => "name cannot be provided when a selector is specified",
        _ => return Ok(()),
    };
    Err(KubectlError::usage(refusal))
}

/// The builder's refusal of `-f` directories that hold no manifest (`.json`, `.yaml`,
/// `.yml`; below the top only with `-R`) while no earlier `-f` named one either.
fn check_paths(files: &FileArgs) -> Result<()> {
    let mut manifests = 0;
    for f in &files.filename {
        let path = Path::new(f);
        if f == "-" || !path.is_dir() {
            // Missing paths are refused when read; a file named is read whatever its name.
            manifests += 1;
            continue;
        }
        manifests += count_manifests(path, files.recursive);
        if manifests == 0 {
            return Err(KubectlError::usage(format!(
                "error reading [{f}]: recognized file extensions are [.json .yaml .yml]"
            )));
        }
    }
    Ok(())
}

fn count_manifests(dir: &Path, recursive: bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .map(|p| {
            if p.is_dir() {
                if recursive {
                    count_manifests(&p, true)
                } else {
                    0
                }
            } else {
                usize::from(matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("json" | "yaml" | "yml")
                ))
            }
        })
        .sum()
}

/// `--local`: the `-f` objects, checked as upstream's decoder and namespace rules check them,
/// without asking a server anything.
fn find_local(ctx: &Ctx, files: &FileArgs) -> Result<Found> {
    if files.filename.is_empty() {
        return Err(KubectlError::usage(MISSING_RESOURCE_ERROR));
    }
    // Upstream reads the kubeconfig's namespace even here (a config that names none, or no
    // config at all, leaves `default`); only -n binds the manifests to it.
    let explicit = ctx.global.namespace.is_some();
    let namespace = match ctx.kubeconfig.resolve(&ctx.overrides()) {
        Ok(r) => r.namespace,
        Err(_) => ctx
            .global
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
    };
    let mut infos = Vec::new();
    for m in manifest::read_all(&files.filename, files.recursive)? {
        super::typed::check_registered(&m.object, &m.source)?;
        if let Some(why) = super::prune::decode_error(&m.object) {
            return Err(KubectlError::usage(format!(
                "unable to decode {:?}: {why}",
                m.source
            )));
        }
        if let Some(ns) = m.object["metadata"]["namespace"].as_str() {
            if explicit && !ns.is_empty() && ns != namespace {
                return Err(KubectlError::usage(format!(
                    "the namespace from the provided object \"{ns}\" does not match the namespace \"{namespace}\". You must pass '--namespace={ns}' to perform this operation."
                )));
            }
        }
        infos.push(Info {
            object: as_typed(m.object),
            remote: None,
        });
    }
    Ok(Found {
        infos,
        client: None,
        namespace,
        errors: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_only_filter_types() {
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_words(&w(&["deploy"]), Some("a=b")).is_ok());
        assert!(check_words(&w(&["deploy", "web"]), None).is_ok());
        for (words, selector, refusal) in [
            (w(&[]), None, "You must provide one or more resources"),
            (
                w(&[]),
                Some("a=b"),
                "at least one resource must be specified",
            ),
            (
                w(&["deploy/web"]),
                Some("a=b"),
                "selectors and the all flag",
            ),
            (
                w(&["deploy", "web"]),
                Some("a=b"),
                "name cannot be provided",
            ),
        ] {
            let err = check_words(&words, selector).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("error: {refusal}")),
                "{words:?}: {err}"
            );
        }
    }

    #[test]
    fn directories_without_manifests_are_refused_unless_one_came_before() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("nested");
        std::fs::create_dir(&nested).unwrap();
        std::fs::write(nested.join("d.yaml"), "kind: Pod\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "").unwrap();
        let top = dir.path().to_string_lossy().to_string();
        let files = |names: &[&str], recursive| FileArgs {
            filename: names.iter().map(|s| s.to_string()).collect(),
            recursive,
        };
        let err = check_paths(&files(&[&top], false)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "error: error reading [{top}]: recognized file extensions are [.json .yaml .yml]"
            )
        );
        assert!(check_paths(&files(&[&top], true)).is_ok());
        assert!(check_paths(&files(&["-", &top], false)).is_ok());
    }

    #[test]
    fn local_object_names_are_upstreams() {
        let local = |object: Value| Info {
            object,
            remote: None,
        };
        let svc = local(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}));
        assert_eq!(svc.object_name(), "service/s");
        let rb = local(json!({"apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding", "metadata": {"name": "rb"}}));
        assert_eq!(
            rb.object_name(),
            "rolebinding.rbac.authorization.k8s.io/rb\n",
            "upstream ends the grouped form with a newline"
        );
    }
}
