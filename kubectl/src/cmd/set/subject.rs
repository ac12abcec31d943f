//! `kubectl set subject (-f FILENAME | TYPE NAME) [--user=U] [--group=G]
//! [--serviceaccount=NS:NAME]`: adds users, groups and service accounts to the subjects of
//! RoleBindings and ClusterRoleBindings (those already there are kept, none is doubled).

use clap::Args;
use serde_json::{json, Value};

use super::change::{Change, Wording};
use super::{report, TargetArgs};
use crate::cmd::create::FileArgs;
use crate::cmd::Ctx;
use crate::error::{KubectlError, Result};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// `kubectl set subject`
#[derive(Debug, Args)]
pub struct SubjectArgs {
    /// TYPE NAME… or TYPE/NAME….
    args: Vec<String>,
    #[command(flatten)]
    files: FileArgs,
    /// Selector (label query) to filter on, supports '=', '==', and '!='.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Usernames to bind to the role (given as `--user`; see `rewrite_shadowed_flags`).
    #[arg(id = "binding_user", long = "binding-user")]
    users: Vec<String>,
    /// Groups to bind to the role.
    #[arg(long = "group")]
    groups: Vec<String>,
    /// Service accounts to bind to the role (NAMESPACE:NAME).
    #[arg(long = "serviceaccount")]
    service_accounts: Vec<String>,
    #[command(flatten)]
    targets: TargetArgs,
}

/// Runs `kubectl set subject`.
pub async fn run(ctx: &Ctx, a: SubjectArgs) -> Result<()> {
    let t = &a.targets;
    let mut change = Change::new(
        t,
        "subjects updated",
        Wording::Patches {
            failed_patch: "failed to patch subjects to rolebinding: ",
        },
    )?;
    let found = t
        .find_every(ctx, &a.args, &a.files, a.selector.as_deref())
        .await?;
    // Upstream's Validate, first complaint only, after every object was read.
    if let Some(e) = t
        .check_local_dry_run(change.dry)
        .or_else(|| t.check_all_and_selector(a.selector.as_deref()))
    {
        return Err(e);
    }
    if a.users.is_empty() && a.groups.is_empty() && a.service_accounts.is_empty() {
        return Err(KubectlError::usage(
            "you must specify at least one value of user, group or serviceaccount",
        ));
    }
    let accounts = service_accounts(&a.service_accounts)?;
    let cluster_binding = found
        .infos
        .iter()
        .any(|i| i.object["kind"] == "ClusterRoleBinding");
    if cluster_binding && accounts.iter().any(|(ns, _)| ns.is_empty()) {
        return Err(KubectlError::usage(
            "serviceaccount must be <namespace>:<name>, namespace must be specified",
        ));
    }
    let wanted = subjects(&a.users, &a.groups, &accounts, &found.namespace);
    let errors = change
        .each(&found, |info| {
            let obj = &info.object;
            if obj["kind"] != "RoleBinding" && obj["kind"] != "ClusterRoleBinding" {
                return Err(KubectlError::usage(
                    "setting subjects is only supported for RoleBinding/ClusterRoleBinding",
                ));
            }
            let existing = obj["subjects"].as_array().cloned().unwrap_or_default();
            Ok(added(&existing, &wanted).map(|all| json!({ "subjects": all })))
        })
        .await;
    report(errors)
}

/// `NAMESPACE:NAME` pairs (the namespace may be empty, meaning the command's).
fn service_accounts(specs: &[String]) -> Result<Vec<(String, String)>> {
    specs
        .iter()
        .map(|spec| match spec.split(':').collect::<Vec<_>>()[..] {
            [ns, name] if !name.is_empty() => Ok((ns.to_string(), name.to_string())),
            _ => Err(KubectlError::usage(
                "serviceaccount must be <namespace>:<name>",
            )),
        })
        .collect()
}

/// The subjects asked for, as upstream orders them: users, groups, then service accounts,
/// each sorted and without repeats.
fn subjects(
    users: &[String],
    groups: &[String],
    accounts: &[(String, String)],
    namespace: &str,
) -> Vec<Value> {
    let sorted = |names: &[String]| {
        let mut names = names.to_vec();
        names.sort();
        names.dedup();
        names
    };
    let mut out: Vec<Value> = Vec::new();
    for user in sorted(users) {
        out.push(json!({"kind": "User", "apiGroup": RBAC_GROUP, "name": user}));
    }
    for group in sorted(groups) {
        out.push(json!({"kind": "Group", "apiGroup": RBAC_GROUP, "name": group}));
    }
    let mut accounts = accounts.to_vec();
    accounts.sort();
    accounts.dedup();
    for (ns, name) in accounts {
        let ns = if ns.is_empty() {
            namespace.to_string()
        } else {
            ns
        };
        out.push(json!({"kind": "ServiceAccount", "name": name, "namespace": ns}));
    }
    out
}

/// `existing` with each of `wanted` it lacks appended, or None when it lacks none.
fn added(existing: &[Value], wanted: &[Value]) -> Option<Vec<Value>> {
    // Subjects are equal when all four fields are; absent fields are empty.
    let key = |s: &Value| {
        ["kind", "apiGroup", "name", "namespace"]
            .map(|f| s[f].as_str().unwrap_or_default().to_string())
    };
    let mut all = existing.to_vec();
    for w in wanted {
        if !existing.iter().any(|e| key(e) == key(w)) {
            all.push(w.clone());
        }
    }
    (all.len() > existing.len()).then_some(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_sorted_defaulted_and_added_once() {
        let accounts = service_accounts(&[":robot".into(), "ops:bot".into()]).unwrap();
        let wanted = subjects(
            &["zed".into(), "amy".into(), "amy".into()],
            &["devs".into()],
            &accounts,
            "team",
        );
        let names: Vec<&str> = wanted.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["amy", "zed", "devs", "robot", "bot"]);
        assert_eq!(
            wanted[3]["namespace"], "team",
            "an empty namespace is the command's"
        );
        let existing = vec![json!({"kind": "User", "apiGroup": RBAC_GROUP, "name": "amy"})];
        let all = added(&existing, &wanted).unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!(all[0], existing[0]);
        assert!(
            added(&all, &wanted).is_none(),
            "nothing new, nothing to patch"
        );
        assert!(service_accounts(&["nocolon".into()]).is_err());
        assert!(service_accounts(&["ns:".into()]).is_err());
    }
}
