//! `kubectl taint`: add (`key[=value]:Effect`) and remove (`key[:Effect]-`) node taints.
//!
//! The rules are upstream's: all node words come before the taint changes; a key/effect pair
//! may be added once per command; adding a pair the node already has needs `--overwrite`;
//! removing a taint the node lacks is an error. The node's new taint list is the added
//! taints followed by the old ones they do not replace, sent as a strategic merge patch
//! (taints have no merge key, so the list is replaced whole).

use clap::Args;
use http::Method;
use serde_json::{json, Value};

use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::write::WriteArgs;
use super::Ctx;
use crate::client::{q, Body};
use crate::error::{KubectlError, Result};
use crate::validation::{label_value_errors, qualified_name_errors};

/// `kubectl taint NODE NAME KEY_1=VAL_1:TAINT_EFFECT_1 ... KEY_N=VAL_N:TAINT_EFFECT_N`
#[derive(Debug, Args)]
pub struct TaintArgs {
    /// `node NAME…` followed by taint changes.
    args: Vec<String>,
    /// If true, allow taints to be overwritten, otherwise reject taint updates that overwrite
    /// existing taints.
    #[arg(long)]
    overwrite: bool,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Select all nodes in the cluster.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    pub print_flags: PrintFlags,
    #[command(flatten)]
    pub dry_run: DryRunFlag,
    /// `--validate` and `--field-manager`.
    #[command(flatten)]
    write: WriteArgs,
}

/// A taint as the command line spells it; an empty effect means "any effect" (removal only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaintSpec {
    /// `key`
    pub key: String,
    /// `value` (may be empty)
    pub value: String,
    /// `NoSchedule`, `PreferNoSchedule`, `NoExecute`, or empty.
    pub effect: String,
}

impl TaintSpec {
    /// Upstream's `Taint.ToString`: `key=value:effect`, dropping empty parts.
    pub fn to_spec_string(&self) -> String {
        match (self.value.is_empty(), self.effect.is_empty()) {
            (true, true) => self.key.clone(),
            (false, true) => format!("{}={}:", self.key, self.value),
            (true, false) => format!("{}:{}", self.key, self.effect),
            (false, false) => format!("{}={}:{}", self.key, self.value, self.effect),
        }
    }

    fn to_json(&self) -> Value {
        let mut t = json!({"key": self.key, "effect": self.effect});
        if !self.value.is_empty() {
            t["value"] = json!(self.value);
        }
        t
    }

    fn matches(&self, taint: &Value) -> bool {
        taint["key"].as_str() == Some(self.key.as_str())
            && taint["effect"].as_str().unwrap_or("") == self.effect
    }
}

/// Whether an argument is a taint change rather than a resource word.
fn is_taint_arg(s: &str) -> bool {
    s.contains('=') || s.contains(':') || s.ends_with('-')
}

/// Splits arguments into resource words and taint changes; resources must come first.
pub fn split_args(args: &[String]) -> Result<(Vec<String>, Vec<String>)> {
    let mut resources = Vec::new();
    let mut taints = Vec::new();
    for a in args {
        match (taints.is_empty(), is_taint_arg(a)) {
            (_, true) => taints.push(a.clone()),
            (true, false) => resources.push(a.clone()),
            (false, false) => {
                return Err(KubectlError::usage(format!(
                    "all resources must be specified before taint changes: {a}"
                )))
            }
        }
    }
    if resources.is_empty() {
        return Err(KubectlError::usage(
            "one or more resources must be specified as <resource> <name>",
        ));
    }
    if taints.is_empty() {
        return Err(KubectlError::usage("at least one taint update is required"));
    }
    Ok((resources, taints))
}

/// Parses taint changes into (to add, to remove).
pub fn parse_taints(
    specs: &[String],
) -> std::result::Result<(Vec<TaintSpec>, Vec<TaintSpec>), String> {
    let mut add: Vec<TaintSpec> = Vec::new();
    let mut remove = Vec::new();
    for spec in specs {
        if let Some(s) = spec.strip_suffix('-') {
            let t = parse_taint(s)?;
            remove.push(TaintSpec {
                value: String::new(),
                ..t
            });
            continue;
        }
        let t = parse_taint(spec)?;
        if t.effect.is_empty() {
            return Err(format!("invalid taint spec: {spec}"));
        }
        if add.iter().any(|a| a.key == t.key && a.effect == t.effect) {
            // Upstream prints the Go struct with %v.
            return Err(format!(
                "duplicated taints with the same key and effect: {{{} {} {} <nil>}}",
                t.key, t.value, t.effect
            ));
        }
        add.push(t);
    }
    Ok((add, remove))
}

/// Parses `key`, `key:effect` or `key=value:effect`.
pub fn parse_taint(st: &str) -> std::result::Result<TaintSpec, String> {
    let parts: Vec<&str> = st.split(':').collect();
    let (key, value, effect) = match parts.as_slice() {
        [k] => (k.to_string(), String::new(), String::new()),
        [kv, effect] => {
            if !matches!(*effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
                return Err(format!(
                    "invalid taint effect: {effect}, unsupported taint effect"
                ));
            }
            let kvs: Vec<&str> = kv.split('=').collect();
            if kvs.len() > 2 {
                return Err(format!("invalid taint spec: {st}"));
            }
            let value = kvs.get(1).copied().unwrap_or("").to_string();
            let errs = label_value_errors(&value);
            if !errs.is_empty() {
                return Err(format!("invalid taint spec: {st}, {}", errs.join("; ")));
            }
            (kvs[0].to_string(), value, effect.to_string())
        }
        _ => return Err(format!("invalid taint spec: {st}")),
    };
    let errs = qualified_name_errors(&key);
    if !errs.is_empty() {
        return Err(format!("invalid taint spec: {st}, {}", errs.join("; ")));
    }
    Ok(TaintSpec { key, value, effect })
}

/// Pairs both added and removed in one command (upstream refuses them).
pub fn conflicts(add: &[TaintSpec], remove: &[TaintSpec]) -> Vec<String> {
    let mut out = Vec::new();
    for a in add {
        for r in remove {
            if a.key == r.key && (r.effect.is_empty() || a.effect == r.effect) {
                // kubectl 1.32 prints `key=effect`.
                out.push(format!("{}={}", r.key, r.effect));
            }
        }
    }
    out
}

/// The node's new taint list and upstream's verb for the change (`tainted`, `untainted`,
/// `modified`).
pub fn reorganize(
    node_name: &str,
    old: &[Value],
    add: &[TaintSpec],
    remove: &[TaintSpec],
    overwrite: bool,
) -> Result<(&'static str, Vec<Value>)> {
    if !overwrite {
        let existing: Vec<&str> = add
            .iter()
            .flat_map(|a| old.iter().filter(|o| a.matches(o)).map(|_| a.key.as_str()))
            .collect();
        if !existing.is_empty() {
            return Err(KubectlError::usage(format!(
                "node {node_name} already has {} taint(s) with same effect(s) and --overwrite is false",
                existing.join(",")
            )));
        }
    }
    let mut taints: Vec<Value> = add.iter().map(TaintSpec::to_json).collect();
    for o in old {
        if !add.iter().any(|a| a.matches(o)) {
            taints.push(o.clone());
        }
    }
    let added = taints.len() != old.len();
    let mut errors = Vec::new();
    let mut removed = false;
    for r in remove {
        let before = taints.len();
        taints.retain(|t| {
            if r.effect.is_empty() {
                t["key"].as_str() != Some(r.key.as_str())
            } else {
                !r.matches(t)
            }
        });
        // Upstream reports the outcome of the last removal only.
        removed = taints.len() != before;
        if !removed {
            errors.push(format!("taint {:?} not found", r.to_spec_string()));
        }
    }
    match errors.len() {
        0 => {}
        1 => return Err(KubectlError::usage(errors.remove(0))),
        _ => {
            // Upstream prints an aggregate of several errors one per line, unprefixed.
            for e in &errors {
                eprintln!("{e}");
            }
            return Err(KubectlError::Reported);
        }
    }
    let verb = if (added && removed) || overwrite {
        "modified"
    } else if added {
        "tainted"
    } else {
        "untainted"
    };
    Ok((verb, taints))
}

/// Runs `kubectl taint`.
pub async fn run(ctx: &Ctx, args: TaintArgs) -> Result<()> {
    let (resources, specs) = split_args(&args.args)?;
    let (add, remove) = parse_taints(&specs).map_err(|e| {
        KubectlError::usage(format!("{e}\nSee 'kubectl taint -h' for help and examples"))
    })?;
    let format = args.print_flags.format()?;
    let dry = args.dry_run.strategy()?;
    let write = args.write.write("kubectl-taint", dry)?;
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let res = disc.resolve(&client, &resources[0].to_lowercase()).await?;
    if res.kind != "Node" {
        return Err(KubectlError::usage(format!(
            "invalid resource type {}, only node types are supported",
            resources[0].to_lowercase()
        )));
    }
    let clash = conflicts(&add, &remove);
    if !clash.is_empty() {
        return Err(KubectlError::usage(format!(
            "can not both modify and remove the following taint(s) in the same command: {}",
            clash.join(", ")
        )));
    }
    if args.all && args.selector.is_some() {
        return Err(KubectlError::usage(
            "setting 'all' parameter with a non empty selector is prohibited",
        ));
    }
    if !args.all && args.selector.is_none() && resources.len() < 2 {
        return Err(KubectlError::usage(
            "at least one resource name must be specified since 'all' parameter is not set",
        ));
    }
    let mut nodes = Vec::new();
    let mut errors = Vec::new();
    if args.all || args.selector.is_some() {
        let mut path = "/api/v1/nodes".to_string();
        if let Some(s) = &args.selector {
            path.push_str(&format!("?labelSelector={}", q(s)));
        }
        let list = client.get(&path).await?;
        nodes.extend(list["items"].as_array().cloned().unwrap_or_default());
    } else {
        for name in &resources[1..] {
            match client.get(&format!("/api/v1/nodes/{name}")).await {
                Ok(n) => nodes.push(n),
                Err(e) => errors.push(e),
            }
        }
    }
    for node in nodes {
        let name = node["metadata"]["name"].as_str().unwrap_or("").to_string();
        let r = async {
            let old = node["spec"]["taints"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let (verb, taints) = reorganize(&name, &old, &add, &remove, args.overwrite)?;
            let taints_value = if taints.is_empty() {
                Value::Null
            } else {
                Value::Array(taints.clone())
            };
            let result = if dry == DryRun::Client {
                let mut n = node.clone();
                n["spec"]["taints"] = taints_value;
                if n["spec"]["taints"].is_null() {
                    if let Some(spec) = n["spec"].as_object_mut() {
                        spec.remove("taints");
                    }
                }
                n
            } else {
                let body = Body::strategic_merge_patch(&json!({"spec": {"taints": taints_value}}));
                client
                    .request(
                        Method::PATCH,
                        &format!("/api/v1/nodes/{name}{}", write.query()),
                        "application/json",
                        Some(body),
                    )
                    .await?
            };
            Ok::<_, KubectlError>((verb, result))
        }
        .await;
        match r {
            // Upstream's taint never adds " (dry run)" to its message (1.32 prints
            // "node/x tainted" with --dry-run=client too); hack/e2e/kubectl-compare.sh checks.
            Ok((verb, obj)) => args.print_flags.print(&format, &obj, verb, DryRun::None)?,
            Err(e) => errors.push(e),
        }
    }
    super::get::report(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn spec(k: &str, v: &str, e: &str) -> TaintSpec {
        TaintSpec {
            key: k.into(),
            value: v.into(),
            effect: e.into(),
        }
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(
            parse_taint("a=b:NoSchedule").unwrap(),
            spec("a", "b", "NoSchedule")
        );
        assert_eq!(
            parse_taint("a:NoExecute").unwrap(),
            spec("a", "", "NoExecute")
        );
        assert_eq!(
            parse_taint("example.com/a").unwrap(),
            spec("example.com/a", "", "")
        );
        assert_eq!(
            parse_taint("a=b:Never").unwrap_err(),
            "invalid taint effect: Never, unsupported taint effect"
        );
        assert_eq!(
            parse_taint("a=b=c:NoSchedule").unwrap_err(),
            "invalid taint spec: a=b=c:NoSchedule"
        );
        assert_eq!(
            parse_taint("a:b:c").unwrap_err(),
            "invalid taint spec: a:b:c"
        );
        assert!(parse_taint("-a:NoSchedule")
            .unwrap_err()
            .starts_with("invalid taint spec: -a:NoSchedule, name part must consist"));
        assert!(parse_taint("a=b c:NoSchedule")
            .unwrap_err()
            .contains("a valid label must be"));
    }

    #[test]
    fn adds_need_an_effect_and_must_be_unique() {
        let (add, rm) = parse_taints(&s(&["a=1:NoSchedule", "b-", "c:NoExecute-"])).unwrap();
        assert_eq!(add, vec![spec("a", "1", "NoSchedule")]);
        assert_eq!(rm, vec![spec("b", "", ""), spec("c", "", "NoExecute")]);
        // `key=value` without an effect is not even a valid key.
        assert!(parse_taints(&s(&["a=1"]))
            .unwrap_err()
            .starts_with("invalid taint spec: a=1, "));
        assert_eq!(
            parse_taints(&s(&["a"])).unwrap_err(),
            "invalid taint spec: a"
        );
        assert_eq!(
            parse_taints(&s(&["a=1:NoSchedule", "a=2:NoSchedule"])).unwrap_err(),
            "duplicated taints with the same key and effect: {a 2 NoSchedule <nil>}"
        );
        assert!(parse_taints(&s(&["a=1:NoSchedule", "a=2:NoExecute"])).is_ok());
    }

    #[test]
    fn resources_come_before_changes() {
        let (r, t) = split_args(&s(&["node", "n1", "a=b:NoSchedule"])).unwrap();
        assert_eq!((r, t), (s(&["node", "n1"]), s(&["a=b:NoSchedule"])));
        assert_eq!(
            split_args(&s(&["node", "a=b:NoSchedule", "n1"]))
                .unwrap_err()
                .to_string(),
            "error: all resources must be specified before taint changes: n1"
        );
        assert_eq!(
            split_args(&s(&["node", "n1"])).unwrap_err().to_string(),
            "error: at least one taint update is required"
        );
    }

    #[test]
    fn conflicting_add_and_remove() {
        let c = conflicts(&[spec("a", "1", "NoSchedule")], &[spec("a", "", "")]);
        assert_eq!(c, vec!["a="]);
        assert!(conflicts(
            &[spec("a", "1", "NoSchedule")],
            &[spec("a", "", "NoExecute")]
        )
        .is_empty());
    }

    #[test]
    fn reorganize_reports_upstreams_verbs() {
        let old = vec![json!({"key": "x", "effect": "NoSchedule"})];
        let (verb, t) = reorganize("n", &old, &[spec("a", "1", "NoSchedule")], &[], false).unwrap();
        assert_eq!(verb, "tainted");
        assert_eq!(
            t,
            vec![
                json!({"key": "a", "value": "1", "effect": "NoSchedule"}),
                old[0].clone()
            ]
        );

        let (verb, t) = reorganize("n", &old, &[], &[spec("x", "", "")], false).unwrap();
        assert_eq!((verb, t.len()), ("untainted", 0));

        let (verb, t) = reorganize("n", &old, &[spec("x", "2", "NoSchedule")], &[], true).unwrap();
        assert_eq!(verb, "modified");
        assert_eq!(
            t,
            vec![json!({"key": "x", "value": "2", "effect": "NoSchedule"})]
        );

        assert_eq!(
            reorganize("n", &old, &[spec("x", "2", "NoSchedule")], &[], false)
                .unwrap_err()
                .to_string(),
            "error: node n already has x taint(s) with same effect(s) and --overwrite is false"
        );
        assert_eq!(
            reorganize("n", &old, &[], &[spec("y", "", "NoExecute")], false)
                .unwrap_err()
                .to_string(),
            "error: taint \"y:NoExecute\" not found"
        );
        let (verb, _) = reorganize(
            "n",
            &old,
            &[spec("a", "", "NoExecute")],
            &[spec("x", "", "")],
            false,
        )
        .unwrap();
        assert_eq!(verb, "modified");
    }
}
