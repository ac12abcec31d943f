//! `kubectl label` and `kubectl annotate`: `KEY=VALUE` sets, `KEY-` removes, `--overwrite`
//! to change an existing value; sent as a JSON merge patch on metadata.

use clap::Args;
use http::Method;
use serde_json::{json, Map, Value};

use super::{out, Ctx};
use crate::client::{q, ApiClient, Body};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::resource::ApiResource;

/// Which metadata map the command edits.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `metadata.labels`
    Label,
    /// `metadata.annotations`
    Annotate,
}

impl Kind {
    fn field(self) -> &'static str {
        match self {
            Kind::Label => "labels",
            Kind::Annotate => "annotations",
        }
    }
    fn done(self) -> &'static str {
        match self {
            Kind::Label => "labeled",
            Kind::Annotate => "annotated",
        }
    }
}

/// `kubectl label|annotate`
#[derive(Debug, Args)]
pub struct LabelArgs {
    /// TYPE NAME KEY=VAL… or TYPE/NAME KEY=VAL… (KEY- removes).
    args: Vec<String>,
    /// If true, allow values to be overwritten.
    #[arg(long)]
    overwrite: bool,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Select all resources in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
    /// Output format: name.
    #[arg(short = 'o', long)]
    output: Option<String>,
}

/// A parsed change list.
#[derive(Debug, PartialEq)]
pub struct Changes {
    /// Keys to set.
    pub set: Vec<(String, String)>,
    /// Keys to remove.
    pub remove: Vec<String>,
}

/// Splits arguments into object words and `KEY=VALUE`/`KEY-` changes.
pub fn split_args(args: &[String]) -> (Vec<String>, Changes) {
    let mut objects = Vec::new();
    let mut set = Vec::new();
    let mut remove = Vec::new();
    for a in args {
        if let Some((k, v)) = a.split_once('=') {
            set.push((k.to_string(), v.to_string()));
        } else if let Some(k) = a.strip_suffix('-').filter(|_| !objects.is_empty()) {
            remove.push(k.to_string());
        } else {
            objects.push(a.clone());
        }
    }
    (objects, Changes { set, remove })
}

/// The merge patch for one object, or an error when a value would change without
/// `--overwrite`. `None` when nothing changes.
pub fn patch_for(
    current: &Map<String, Value>,
    c: &Changes,
    overwrite: bool,
    kind: Kind,
) -> Result<Option<Value>> {
    let mut patch = Map::new();
    for (k, v) in &c.set {
        match current.get(k).and_then(Value::as_str) {
            Some(old) if old == v => {}
            Some(old) if !overwrite => {
                return Err(KubectlError::usage(format!(
                    "'{k}' already has a value ({old}), and --overwrite is false"
                )))
            }
            _ => {
                patch.insert(k.clone(), json!(v));
            }
        }
    }
    for k in &c.remove {
        if current.contains_key(k) {
            patch.insert(k.clone(), Value::Null);
        } else if matches!(kind, Kind::Label) {
            eprintln!("label \"{k}\" not found.");
        }
    }
    Ok((!patch.is_empty()).then(|| json!({"metadata": {kind.field(): patch}})))
}

/// Runs `kubectl label` / `kubectl annotate`.
pub async fn run(ctx: &Ctx, args: LabelArgs, kind: Kind) -> Result<()> {
    let (objects, changes) = split_args(&args.args);
    if changes.set.is_empty() && changes.remove.is_empty() {
        return Err(KubectlError::usage(format!(
            "at least one {} update is required",
            match kind {
                Kind::Label => "label",
                Kind::Annotate => "annotation",
            }
        )));
    }
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets = resolve_targets(
        &client,
        &mut disc,
        &objects,
        args.selector.as_deref(),
        args.all,
    )
    .await?;
    let mut errors = Vec::new();
    for (res, name) in targets {
        let path = res.object_path(res.namespaced.then_some(client.namespace.as_str()), &name);
        let r = async {
            let obj = client.get(&path).await?;
            let current = obj["metadata"][kind.field()]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let done = match patch_for(&current, &changes, args.overwrite, kind)? {
                // Upstream says "unlabeled" when the object got smaller without --overwrite.
                Some(p)
                    if shrinks(&current, &p["metadata"][kind.field()])
                        && !args.overwrite
                        && matches!(kind, Kind::Label) =>
                {
                    send(&client, &path, &p).await?;
                    "unlabeled".to_string()
                }
                Some(p) => {
                    let body = Body {
                        content_type: "application/merge-patch+json",
                        bytes: p.to_string().into_bytes(),
                    };
                    client
                        .request(Method::PATCH, &path, "application/json", Some(body))
                        .await?;
                    kind.done().to_string()
                }
                None if matches!(kind, Kind::Label) => format!("not {}", kind.done()),
                None => kind.done().to_string(),
            };
            Ok::<_, KubectlError>(done)
        }
        .await;
        match r {
            Ok(_) if args.output.as_deref() == Some("name") => {
                out(&format!("{}/{name}\n", res.kind_prefix()))
            }
            Ok(done) => out(&format!("{}/{name} {done}\n", res.kind_prefix())),
            Err(e) => errors.push(e),
        }
    }
    super::get::report(errors)
}

async fn send(client: &ApiClient, path: &str, patch: &Value) -> Result<()> {
    let body = Body {
        content_type: "application/merge-patch+json",
        bytes: patch.to_string().into_bytes(),
    };
    client
        .request(Method::PATCH, path, "application/json", Some(body))
        .await
        .map(|_| ())
}

/// Whether applying a merge patch to a string map makes its JSON shorter.
fn shrinks(current: &Map<String, Value>, patch: &Value) -> bool {
    let mut after = current.clone();
    for (k, v) in patch.as_object().into_iter().flatten() {
        if v.is_null() {
            after.remove(k);
        } else {
            after.insert(k.clone(), v.clone());
        }
    }
    Value::Object(after).to_string().len() < Value::Object(current.clone()).to_string().len()
}

/// Objects named as `TYPE NAME…`, `TYPE/NAME…`, or `TYPE` with `-l`/`--all`.
pub async fn resolve_targets(
    client: &ApiClient,
    disc: &mut Discovery,
    words: &[String],
    selector: Option<&str>,
    all: bool,
) -> Result<Vec<(ApiResource, String)>> {
    let mut out = Vec::new();
    match crate::resource::parse_args(words)? {
        crate::resource::Selection::Pairs(p) => {
            for (ty, name) in p {
                out.push((disc.resolve(client, &ty).await?, name));
            }
        }
        crate::resource::Selection::Types { types, names } => {
            for ty in types {
                let res = disc.resolve(client, &ty).await?;
                if names.is_empty() {
                    if selector.is_none() && !all {
                        return Err(KubectlError::usage(
                            "resource(s) were provided, but no name was specified",
                        ));
                    }
                    let ns = res.namespaced.then_some(client.namespace.as_str());
                    let mut path = res.collection_path(ns);
                    if let Some(s) = selector {
                        path.push_str(&format!("?labelSelector={}", q(s)));
                    }
                    let list = client.get(&path).await?;
                    for item in list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                        out.push((
                            res.clone(),
                            item["metadata"]["name"].as_str().unwrap_or("").to_string(),
                        ));
                    }
                } else {
                    for n in &names {
                        out.push((res.clone(), n.clone()));
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn splits_objects_and_changes() {
        let (o, c) = split_args(&s(&["pods", "web", "app=x", "old-"]));
        assert_eq!(o, ["pods", "web"]);
        assert_eq!(c.set, vec![("app".to_string(), "x".to_string())]);
        assert_eq!(c.remove, ["old"]);
    }

    #[test]
    fn overwrite_rules() {
        let mut cur = Map::new();
        cur.insert("app".into(), json!("a"));
        let c = Changes {
            set: vec![("app".into(), "b".into())],
            remove: vec![],
        };
        assert_eq!(
            patch_for(&cur, &c, false, Kind::Label)
                .unwrap_err()
                .to_string(),
            "error: 'app' already has a value (a), and --overwrite is false"
        );
        assert_eq!(
            patch_for(&cur, &c, true, Kind::Label).unwrap(),
            Some(json!({"metadata": {"labels": {"app": "b"}}}))
        );
        let same = Changes {
            set: vec![("app".into(), "a".into())],
            remove: vec![],
        };
        assert_eq!(patch_for(&cur, &same, false, Kind::Label).unwrap(), None);
        let rm = Changes {
            set: vec![],
            remove: vec!["app".into()],
        };
        assert_eq!(
            patch_for(&cur, &rm, false, Kind::Annotate).unwrap(),
            Some(json!({"metadata": {"annotations": {"app": null}}}))
        );
    }
}
