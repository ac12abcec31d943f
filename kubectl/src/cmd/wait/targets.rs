//! Which objects `kubectl wait` waits on, found as upstream's resource builder finds them:
//! named (`TYPE NAME…`, `TYPE/NAME…`), listed (`TYPE` with `-l`, `--field-selector` or
//! `--all`; with `-A` in every namespace), or named by the manifests of `-f`. With `--local`
//! the manifests themselves are the objects and no server is asked.

use serde_json::Value;

use super::super::create::FileArgs;
use super::super::get::label_filter::Selector;
use super::super::get::targets::{self as found, Scope, MISSING_RESOURCE};
use super::super::label::Target;
use crate::client::{q, ApiClient};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::manifest;
use crate::resource::{self, Selection};

/// Upstream's builder error for type arguments under `--local`; its text carries its own
/// `error: ` (upstream's does too, and kubectl prints it once).
const LOCAL_RESOURCE: &str = "you must specify resources by --filename when --local is set.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'";

/// What the command line names.
#[derive(Debug, Clone, Copy)]
pub struct Finding<'a> {
    /// `TYPE NAME…` or `TYPE/NAME…`
    pub args: &'a [String],
    /// `-f`/`-R`
    pub files: &'a FileArgs,
    /// `-l`
    pub selector: Option<&'a str>,
    /// `--field-selector`
    pub field_selector: Option<&'a str>,
    /// `--all`
    pub all: bool,
    /// `-A`
    pub all_namespaces: bool,
}

impl Finding<'_> {
    fn selector(&self) -> Option<&str> {
        self.selector.map(str::trim).filter(|s| !s.is_empty())
    }

    fn field_selector(&self) -> Option<&str> {
        self.field_selector.map(str::trim).filter(|s| !s.is_empty())
    }

    /// The refusals upstream's builder makes before it asks the server anything; the parsed
    /// arguments, or None when the manifests of `-f` name the objects.
    pub fn check(&self) -> Result<Option<Selection>> {
        if !self.files.filename.is_empty() {
            found::files_conflict(self.args)?;
            return Ok(None);
        }
        if self.args.is_empty() {
            return Err(KubectlError::usage(MISSING_RESOURCE));
        }
        let sel = resource::parse_args(self.args)?;
        // `--all` only matters for a bare type: with names it is not refused, only unused.
        let selecting = self.selector().is_some() || self.field_selector().is_some();
        found::selector_conflict(&sel, selecting)?;
        Ok(Some(sel))
    }

    /// The objects named or listed (each type resolved through discovery); the manifests'
    /// objects that cannot be placed become errors of their own, as upstream carries on.
    pub async fn find(
        &self,
        client: &ApiClient,
        disc: &mut Discovery,
        sel: Option<&Selection>,
        errors: &mut Vec<KubectlError>,
    ) -> Result<Vec<Target>> {
        let scope = Scope::of(client, self.all_namespaces);
        let Some(sel) = sel else {
            return self.named_by_files(disc, &scope, errors);
        };
        let mut out = Vec::new();
        for t in found::from_args(client, disc, sel, &scope).await? {
            match t.name {
                Some(name) => out.push(Target {
                    res: t.res,
                    namespace: t.namespace,
                    name,
                }),
                None => {
                    let listed = self.list(client, &t.res, t.namespace.as_deref()).await?;
                    // Upstream's builder still holds `-n` to its (under -A, empty)
                    // namespace, so with both every listed namespaced object is refused.
                    let refused = self.all_namespaces && client.namespace_explicit;
                    for t in listed {
                        match t.namespace.as_deref() {
                            Some(own) if refused => errors.push(namespace_mismatch(own, "")),
                            _ => out.push(t),
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    fn named_by_files(
        &self,
        disc: &Discovery,
        scope: &Scope,
        errors: &mut Vec<KubectlError>,
    ) -> Result<Vec<Target>> {
        // Manifests are filtered by their own labels, as upstream's builder filters paths.
        let only = match self.selector() {
            Some(s) => Some(Selector::parse(s).map_err(KubectlError::usage)?),
            None => None,
        };
        let mut out = Vec::new();
        for t in found::from_manifests(disc, self.files, scope, only.as_ref(), errors)? {
            if t.lacks_namespace() {
                errors.push(t.no_namespace_error());
                continue;
            }
            out.push(Target {
                res: t.res,
                namespace: t.namespace,
                name: t.name.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The objects of one type `-l`, `--field-selector` or `--all` pick, each in its own
    /// namespace (they differ under `-A`).
    async fn list(
        &self,
        client: &ApiClient,
        res: &crate::resource::ApiResource,
        namespace: Option<&str>,
    ) -> Result<Vec<Target>> {
        if self.selector().is_none() && self.field_selector().is_none() && !self.all {
            return Err(KubectlError::usage(
                "resource(s) were provided, but no name was specified",
            ));
        }
        let mut query = Vec::new();
        if let Some(s) = self.selector() {
            query.push(format!("labelSelector={}", q(s)));
        }
        if let Some(s) = self.field_selector() {
            query.push(format!("fieldSelector={}", q(s)));
        }
        let mut path = res.collection_path(namespace);
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        let list = client.get(&path).await?;
        Ok(list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|item| Target {
                res: res.clone(),
                namespace: item["metadata"]["namespace"].as_str().map(String::from),
                name: item["metadata"]["name"].as_str().unwrap_or("").to_string(),
            })
            .collect())
    }
}

/// `--local`: the objects of the manifests as written, without a server. Upstream's builder
/// then refuses type arguments, and objects of another namespace than an explicit `-n`
/// (each such object an error of its own); an object without a namespace keeps none.
pub fn local(
    args: &[String],
    files: &FileArgs,
    namespace: &str,
    explicit: bool,
    errors: &mut Vec<KubectlError>,
) -> Result<Vec<Value>> {
    if !args.is_empty() {
        return Err(KubectlError::usage(LOCAL_RESOURCE));
    }
    if files.filename.is_empty() {
        return Err(KubectlError::usage(MISSING_RESOURCE));
    }
    let mut out = Vec::new();
    for m in manifest::read_all(&files.filename, files.recursive)? {
        let own = m.object["metadata"]["namespace"].as_str().unwrap_or("");
        if explicit && !own.is_empty() && own != namespace {
            errors.push(namespace_mismatch(own, namespace));
            continue;
        }
        out.push(m.object);
    }
    Ok(out)
}

/// Upstream's builder's refusal of an object outside the namespace `-n` named.
fn namespace_mismatch(own: &str, namespace: &str) -> KubectlError {
    KubectlError::usage(format!(
        "the namespace from the provided object \"{own}\" does not match the namespace \"{namespace}\". You must pass '--namespace={own}' to perform this operation."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> FileArgs {
        FileArgs {
            filename: names.iter().map(|s| s.to_string()).collect(),
            recursive: true,
        }
    }

    fn finding<'a>(args: &'a [String], files: &'a FileArgs) -> Finding<'a> {
        Finding {
            args,
            files,
            selector: None,
            field_selector: None,
            all: false,
            all_namespaces: false,
        }
    }

    #[test]
    fn nothing_named_is_upstreams_missing_resource() {
        let none = files(&[]);
        let err = finding(&[], &none).check().unwrap_err().to_string();
        assert!(err.starts_with("error: You must provide one or more resources"));
    }

    #[test]
    fn selectors_are_refused_with_names_but_all_is_not() {
        let none = files(&[]);
        let pair = vec!["pod/x".to_string()];
        let mut f = finding(&pair, &none);
        f.all = true;
        assert!(f.check().is_ok());
        f.field_selector = Some("metadata.name=x");
        assert_eq!(
            f.check().unwrap_err().to_string(),
            "error: selectors and the all flag cannot be used when passing resource/name arguments"
        );
        let named = vec!["pod".to_string(), "x".to_string()];
        let mut f = finding(&named, &none);
        f.selector = Some("a=b");
        assert_eq!(
            f.check().unwrap_err().to_string(),
            "error: name cannot be provided when a selector is specified"
        );
        // An empty selector selects nothing, so it is no conflict.
        f.selector = Some(" ");
        assert!(f.check().is_ok());
    }

    #[test]
    fn files_exclude_type_arguments() {
        let some = files(&["x.yaml"]);
        let pair = vec!["pod/x".to_string()];
        assert_eq!(
            finding(&pair, &some).check().unwrap_err().to_string(),
            "error: resource/name arguments cannot be provided when a path is specified"
        );
        assert!(finding(&[], &some).check().unwrap().is_none());
    }

    #[test]
    fn local_reads_manifests_and_checks_their_namespace() {
        let dir = std::env::temp_dir().join(format!("rudder-wait-local-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pods.yaml");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: one}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n",
        )
        .unwrap();
        let f = files(&[path.to_str().unwrap()]);
        let mut errors = Vec::new();
        let objs = local(&[], &f, "default", false, &mut errors).unwrap();
        assert_eq!(objs.len(), 2);
        assert!(errors.is_empty());
        // An explicit -n refuses the object of another namespace, keeps the one without.
        let objs = local(&[], &f, "two", true, &mut errors).unwrap();
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0]["metadata"]["name"], "b");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("\"one\" does not match"));
        let arg = vec!["pod/a".to_string()];
        assert_eq!(
            local(&arg, &f, "default", false, &mut errors)
                .unwrap_err()
                .to_string(),
            format!("error: {LOCAL_RESOURCE}")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
