//! `kubectl set env (-f FILENAME | TYPE NAME)... KEY=VALUE... KEY-... [-e KEY=VALUE]
//! [--from=configmap/NAME|secret/NAME [--keys=…] [--prefix=…]] [--list [--resolve]]`:
//! environment variables of the selected containers (init containers included), set,
//! overwritten in place or removed, as upstream's `updateEnv` orders them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use clap::Args;
use serde_json::{json, Map, Value};

use super::change::{Change, Wording};
use super::env_resolve::Store;
use super::objects::{self, Found, Selection};
use super::{name_matches, nest, pod_spec_of, pod_spec_pointer, report, TargetArgs};
use crate::client::{q, ApiClient};
use crate::cmd::create::FileArgs;
use crate::cmd::{out, Ctx};
use crate::error::{KubectlError, Result};
use crate::manifest;

/// `kubectl set env`
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// TYPE NAME… or TYPE/NAME…, then KEY=VALUE and KEY- changes.
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// Selector (label query) to filter on, supports '=', '==', and '!='.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// The names of containers in the selected pod templates to change - may use wildcards.
    #[arg(short = 'c', long, default_value = "*")]
    containers: String,
    /// Specify a key-value pair for an environment variable to set into each container.
    #[arg(short = 'e', long = "env")]
    env: Vec<String>,
    /// The name of a resource from which to inject environment variables.
    #[arg(long)]
    from: Option<String>,
    /// Prefix to append to variable names.
    #[arg(long, default_value = "")]
    prefix: String,
    /// Comma-separated list of keys to import from specified resource.
    #[arg(long, value_delimiter = ',')]
    keys: Vec<String>,
    /// If true, display the environment and any changes in the standard format.
    #[arg(long)]
    list: bool,
    /// If true, show secret or configmap references when listing variables.
    #[arg(long)]
    resolve: bool,
    /// If true, allow environment to be overwritten, otherwise reject updates that overwrite
    /// existing environment.
    #[arg(long, num_args = 0..=1, default_value = "true", default_missing_value = "true")]
    overwrite: bool,
    #[command(flatten)]
    targets: TargetArgs,
}

/// What the arguments ask for: variables to set (in order) and names to remove.
#[derive(Debug, Default, PartialEq)]
struct Changes {
    set: Vec<Value>,
    remove: Vec<String>,
}

/// Runs `kubectl set env`.
pub async fn run(ctx: &Ctx, a: EnvArgs) -> Result<()> {
    let t = &a.targets;
    // Upstream's Complete, then its Validate, in their order.
    if let Some(e) = t.check_all_and_selector(a.selector.as_deref()) {
        return Err(e);
    }
    let (objects, env_args) = split_resources(&a.args).ok_or_else(|| {
        KubectlError::usage(format!(
            "all resources must be specified before environment changes: {}",
            a.args.join(" ")
        ))
    })?;
    let mut change = Change::new(
        t,
        "env updated",
        Wording::Patches {
            failed_patch: "failed to patch env update to pod template: ",
        },
    )?;
    if let Some(e) = t.check_local_dry_run(change.dry) {
        return Err(e);
    }
    if objects.is_empty() && a.files.filename.is_empty() {
        return Err(KubectlError::usage(
            "one or more resources must be specified as <resource> <name> or <resource>/<name>",
        ));
    }
    if a.list
        && t.print_flags
            .output
            .as_deref()
            .is_some_and(|o| !o.is_empty())
    {
        return Err(KubectlError::usage(
            "--list and --output may not be specified together",
        ));
    }
    if !a.keys.is_empty() && a.from.is_none() {
        return Err(KubectlError::usage(
            "when specifying --keys, a configmap or secret must be provided with --from",
        ));
    }
    let specs: Vec<String> = a.env.iter().chain(&env_args).cloned().collect();
    let mut changes = parse_changes(&specs)?;
    let selection = Selection {
        words: &objects,
        files: &a.files,
        selector: a.selector.as_deref(),
        all: t.all,
        local: t.local,
    };
    if let Some(from) = a.from.as_deref() {
        let found = if t.local {
            from_files(&a.files, &a.keys)?
        } else {
            check_from_lookup(from, &a.files, a.selector.as_deref())?;
            from_source(&ctx.client().await?, from, &a.keys).await?
        };
        changes.set.extend(found);
    }
    if !a.prefix.is_empty() {
        for e in &mut changes.set {
            e["name"] = json!(format!(
                "{}{}",
                a.prefix,
                e["name"].as_str().unwrap_or_default()
            ));
        }
    }
    let found = objects::find(ctx, selection).await?.all_or_nothing()?;
    if a.list {
        return list(&found, &a, &changes).await;
    }
    let errors = change
        .each(&found, |info| {
            let obj = &info.object;
            let ptr = pod_spec_of(obj)?;
            let spec = obj.pointer(ptr).cloned().unwrap_or(Value::Null);
            let selected = selected(&spec, &a.containers);
            if selected.is_empty() {
                eprintln!(
                    "Warning: {}/{} does not have any containers matching {:?}",
                    obj["kind"].as_str().unwrap_or_default(),
                    obj["metadata"]["name"].as_str().unwrap_or_default(),
                    a.containers
                );
                return Ok(None);
            }
            let mut patch = Map::new();
            for (list, container) in selected {
                let current = container["env"].as_array().cloned().unwrap_or_default();
                if !a.overwrite {
                    check_no_overwrites(&current, &changes.set).map_err(KubectlError::usage)?;
                }
                if let Some(env) = env_patch(&current, &changes) {
                    let name = container["name"].clone();
                    let entry = patch.entry(list).or_insert_with(|| json!([]));
                    if let Some(l) = entry.as_array_mut() {
                        l.push(json!({"name": name, "env": env}));
                    }
                }
            }
            Ok((!patch.is_empty()).then(|| nest(ptr, Value::Object(patch))))
        })
        .await;
    report(errors)
}

/// Upstream's SplitEnvironmentFromResources: objects first, then KEY=VALUE / KEY- changes.
fn split_resources(args: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    let is_env = |s: &str| s.contains('=') || s.ends_with('-');
    let first_env = args.iter().position(|s| is_env(s)).unwrap_or(args.len());
    let (objects, env) = args.split_at(first_env);
    env.iter()
        .all(|s| is_env(s))
        .then(|| (objects.to_vec(), env.to_vec()))
}

/// Upstream's ParseEnv: `KEY=VALUE` sets, `KEY-` removes, `-` reads KEY=VALUE lines from
/// stdin.
fn parse_changes(specs: &[String]) -> Result<Changes> {
    let mut changes = Changes::default();
    let mut stdin_text = None;
    for spec in specs {
        if spec == "-" {
            let text = stdin_text.get_or_insert_with(|| {
                let mut s = String::new();
                let _ = std::io::stdin().read_to_string(&mut s);
                s
            });
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                set_one(&mut changes, line)?;
            }
        } else if spec.contains('=') {
            set_one(&mut changes, spec)?;
        } else if let Some(name) = spec.strip_suffix('-') {
            changes.remove.push(name.to_string());
        } else {
            return Err(KubectlError::usage(format!(
                "unknown environment variable: {spec}"
            )));
        }
    }
    let set: BTreeSet<&str> = changes
        .set
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    if changes.remove.iter().any(|r| set.contains(r.as_str())) {
        return Err(KubectlError::usage(
            "can not both modify and remove the same environment variable in the same command",
        ));
    }
    Ok(changes)
}

fn set_one(changes: &mut Changes, spec: &str) -> Result<()> {
    let (name, value) = spec.split_once('=').unwrap_or((spec, ""));
    if !valid_env_name(name) {
        return Err(KubectlError::usage(format!(
            "{name:?} is not a valid key name: a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
        )));
    }
    changes.set.push(json!({"name": name, "value": value}));
    Ok(())
}

fn valid_env_name(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    name.chars()
        .next()
        .is_some_and(|c| !c.is_ascii_digit() && ok(c))
        && name.chars().all(ok)
}

/// `--from=configmap/NAME` or `secret/NAME`: one variable per key (upper-cased, other
/// characters as `_`), referring to the key.
async fn from_source(client: &ApiClient, from: &str, keys: &[String]) -> Result<Vec<Value>> {
    let (kind, name) = from.split_once('/').unwrap_or(("", from));
    let path = match kind {
        "configmap" | "configmaps" | "cm" => "configmaps",
        "secret" | "secrets" => "secrets",
        _ => {
            return Err(KubectlError::usage(
                "unsupported resource specified in --from",
            ))
        }
    };
    let obj = client
        .get(&format!(
            "/api/v1/namespaces/{}/{path}/{}",
            client.namespace,
            q(name)
        ))
        .await?;
    key_refs(&obj, keys)
}

/// Upstream looks `--from` up with the same builder as the objects, so `-f` and `-l` apply
/// to that lookup too, and refuse a `TYPE/NAME` as they would anywhere.
fn check_from_lookup(from: &str, files: &FileArgs, selector: Option<&str>) -> Result<()> {
    let tuple = from.contains('/');
    let refusal = if !files.filename.is_empty() {
        Some(if tuple {
            "resource/name arguments cannot be provided when a path is specified"
        } else {
            "when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well"
        })
    } else if tuple && selector.is_some_and(|s| !s.is_empty()) {
        Some("selectors and the all flag cannot be used when passing resource/name arguments")
    } else {
        None
    };
    refusal.map_or(Ok(()), |r| Err(KubectlError::usage(r)))
}

/// `--from` with `--local`: upstream's builder then reads the `-f` objects instead of the
/// named one, so every one of them must be a ConfigMap or a Secret.
fn from_files(files: &FileArgs, keys: &[String]) -> Result<Vec<Value>> {
    let mut refs = Vec::new();
    for m in manifest::read_all(&files.filename, files.recursive)? {
        refs.extend(key_refs(&m.object, keys)?);
    }
    Ok(refs)
}

/// The variables that refer to the keys of a ConfigMap or Secret (all, or those in `keys`).
fn key_refs(obj: &Value, keys: &[String]) -> Result<Vec<Value>> {
    let ref_key = match obj["kind"].as_str() {
        Some("ConfigMap") => "configMapKeyRef",
        Some("Secret") => "secretKeyRef",
        _ => {
            return Err(KubectlError::usage(
                "unsupported resource specified in --from",
            ))
        }
    };
    let name = &obj["metadata"]["name"];
    // Sorted: upstream walks a Go map, whose order is random.
    let mut found: Vec<&String> = obj["data"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    found.sort();
    Ok(found
        .into_iter()
        .filter(|k| keys.is_empty() || keys.contains(k))
        .map(|k| {
            let env_name = env_name_of_key(k);
            if env_name != *k {
                eprintln!("Warning: key {k} transferred to {env_name}");
            }
            json!({"name": env_name, "valueFrom": {ref_key: {"name": name, "key": k}}})
        })
        .collect())
}

fn env_name_of_key(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The containers `-c` selects, regular ones first, with the list each is in.
fn selected<'a>(spec: &'a Value, selector: &str) -> Vec<(&'static str, &'a Value)> {
    ["containers", "initContainers"]
        .into_iter()
        .flat_map(|list| {
            spec[list]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |c| (list, c))
        })
        .filter(|(_, c)| name_matches(selector, c["name"].as_str().unwrap_or_default()))
        .collect()
}

fn check_no_overwrites(current: &[Value], set: &[Value]) -> std::result::Result<(), String> {
    for e in set {
        if let Some(old) = current.iter().find(|c| c["name"] == e["name"]) {
            if old["value"] != e["value"] {
                return Err(format!(
                    "'{}' already has a value ({}), and --overwrite is false",
                    old["name"].as_str().unwrap_or_default(),
                    old["value"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}

/// Upstream's updateEnv: removed names go, set names replace theirs in place, new ones
/// follow in order.
fn updated_env(current: &[Value], changes: &Changes) -> Vec<Value> {
    let find = |name: &Value| changes.set.iter().rev().find(|e| &e["name"] == name);
    let mut out: Vec<Value> = Vec::new();
    let mut covered: BTreeSet<String> = changes.remove.iter().cloned().collect();
    for e in current {
        let name = e["name"].as_str().unwrap_or_default().to_string();
        if covered.contains(&name) {
            continue;
        }
        match find(&e["name"]) {
            Some(newer) => {
                covered.insert(name);
                out.push(newer.clone());
            }
            None => out.push(e.clone()),
        }
    }
    for e in &changes.set {
        let name = e["name"].as_str().unwrap_or_default().to_string();
        if covered.insert(name) {
            out.push(e.clone());
        }
    }
    out
}

/// The strategic merge patch of one container's env (None when it does not change): changed
/// and new variables (a field they no longer have set to null), and `$patch: delete` for
/// removed ones.
fn env_patch(current: &[Value], changes: &Changes) -> Option<Vec<Value>> {
    let updated = updated_env(current, changes);
    if updated == current {
        return None;
    }
    let mut patch = Vec::new();
    for e in &updated {
        match current.iter().find(|c| c["name"] == e["name"]) {
            Some(old) if old == e => {}
            Some(old) => {
                let mut element = e.clone();
                for key in old.as_object().into_iter().flat_map(|m| m.keys()) {
                    if e.get(key).is_none() {
                        element[key] = Value::Null;
                    }
                }
                patch.push(element);
            }
            None => patch.push(e.clone()),
        }
    }
    for old in current {
        if !updated.iter().any(|e| e["name"] == old["name"]) {
            patch.push(json!({"name": old["name"], "$patch": "delete"}));
        }
    }
    Some(patch)
}

/// `--list`: each selected container's environment after the changes, not saved. What
/// cannot be resolved is said on stderr; upstream lists with success all the same.
async fn list(found: &Found, a: &EnvArgs, changes: &Changes) -> Result<()> {
    let mut store = Store::default();
    for info in &found.infos {
        let obj = &info.object;
        let kind = obj["kind"].as_str().unwrap_or_default();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let Some(ptr) = pod_spec_pointer(kind) else {
            continue;
        };
        let spec = obj.pointer(ptr).cloned().unwrap_or(Value::Null);
        for (_, c) in selected(&spec, &a.containers) {
            let current = c["env"].as_array().cloned().unwrap_or_default();
            out(&format!(
                "# {kind} {name}, container {}\n",
                c["name"].as_str().unwrap_or_default()
            ));
            // Variables whose reference failed, by why.
            let mut failed: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for e in updated_env(&current, changes) {
                let var = e["name"].as_str().unwrap_or_default();
                if e.get("valueFrom").is_none() {
                    out(&format!(
                        "{var}={}\n",
                        e["value"].as_str().unwrap_or_default()
                    ));
                    continue;
                }
                if a.resolve {
                    let client = found.client.as_ref();
                    match store
                        .resolve(client, &found.namespace, &e["valueFrom"], obj, c)
                        .await
                    {
                        Ok(value) => {
                            out(&format!("{var}={value}\n"));
                            continue;
                        }
                        Err(why) => failed.entry(why).or_default().push(var.to_string()),
                    }
                }
                out(&format!("# {var} from {}\n", reference(&e["valueFrom"])));
            }
            let mut lines: Vec<String> = failed
                .into_iter()
                .map(|(why, mut vars)| {
                    vars.sort();
                    format!("error retrieving reference for {}: {why}", vars.join(", "))
                })
                .collect();
            lines.sort();
            for line in lines {
                eprintln!("{line}");
            }
        }
    }
    Ok(())
}

/// Upstream's GetEnvVarRefString.
fn reference(from: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    if from["configMapKeyRef"].is_object() {
        let r = &from["configMapKeyRef"];
        return format!("configmap {}, key {}", s(&r["name"]), s(&r["key"]));
    }
    if from["secretKeyRef"].is_object() {
        let r = &from["secretKeyRef"];
        return format!("secret {}, key {}", s(&r["name"]), s(&r["key"]));
    }
    if from["fieldRef"].is_object() {
        return format!("field path {}", s(&from["fieldRef"]["fieldPath"]));
    }
    if from["resourceFieldRef"].is_object() {
        let r = &from["resourceFieldRef"];
        let container = s(&r["containerName"]);
        let prefix = if container.is_empty() {
            String::new()
        } else {
            format!("{container}/")
        };
        return format!("resource field {prefix}{}", s(&r["resource"]));
    }
    "invalid valueFrom".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn resources_come_before_changes() {
        assert_eq!(
            split_resources(&s(&["deploy/web", "A=1", "B-"])),
            Some((s(&["deploy/web"]), s(&["A=1", "B-"])))
        );
        assert_eq!(split_resources(&s(&["A=1", "deploy/web"])), None);
        let c = parse_changes(&s(&["A=1", "B=x=y", "C-"])).unwrap();
        assert_eq!(c.set[1], json!({"name": "B", "value": "x=y"}));
        assert_eq!(c.remove, s(&["C"]));
        assert!(parse_changes(&s(&["A=1", "A-"])).is_err());
        assert!(parse_changes(&s(&["1A=1"])).is_err());
        assert_eq!(env_name_of_key("log.level-x"), "LOG_LEVEL_X");
    }

    #[test]
    fn from_is_looked_up_with_the_objects_flags() {
        let none = FileArgs {
            filename: vec![],
            recursive: false,
        };
        let file = FileArgs {
            filename: vec!["d.yaml".into()],
            recursive: false,
        };
        assert!(check_from_lookup("configmap/x", &none, None).is_ok());
        assert_eq!(
            check_from_lookup("configmap/x", &file, None)
                .unwrap_err()
                .to_string(),
            "error: resource/name arguments cannot be provided when a path is specified"
        );
        assert!(check_from_lookup("configmap", &file, None).is_err());
        assert!(check_from_lookup("configmap/x", &none, Some("a=b")).is_err());
        let cm = json!({"kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"b": "1", "a.x": "2"}});
        let refs = key_refs(&cm, &[]).unwrap();
        assert_eq!(refs[0]["name"], "A_X", "keys sorted, names made valid");
        assert_eq!(
            refs[1]["valueFrom"]["configMapKeyRef"],
            json!({"name": "cm", "key": "b"})
        );
        assert!(key_refs(&json!({"kind": "Deployment"}), &[]).is_err());
    }

    #[test]
    fn updates_keep_positions_and_patches_null_what_is_gone() {
        let current = vec![
            json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}),
            json!({"name": "B", "value": "1"}),
            json!({"name": "C", "value": "2"}),
        ];
        let changes = parse_changes(&s(&["A=x", "D=4", "C-"])).unwrap();
        let updated = updated_env(&current, &changes);
        let names: Vec<&str> = updated
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["A", "B", "D"]);
        assert_eq!(
            env_patch(&current, &changes).unwrap(),
            vec![
                json!({"name": "A", "value": "x", "valueFrom": null}),
                json!({"name": "D", "value": "4"}),
                json!({"name": "C", "$patch": "delete"}),
            ]
        );
        let same = parse_changes(&s(&["B=1"])).unwrap();
        assert_eq!(env_patch(&current, &same), None);
        assert!(check_no_overwrites(&current, &parse_changes(&s(&["B=2"])).unwrap().set).is_err());
    }
}
