//! `kubectl auth reconcile -f FILE`: makes the RBAC objects of the files exist and grant at
//! least what the files grant. Missing Roles, ClusterRoles and bindings are created (with
//! their namespace when the user may create it); existing roles gain the rules they lack and
//! bindings the subjects they lack (`--remove-extra-permissions` / `--remove-extra-subjects`
//! also take away what the file does not have); a binding whose roleRef changed is deleted
//! and created again. Each object is printed (`… reconciled`, or in the `-o` format) and
//! what had to change goes to stderr, as upstream.
//!
//! As upstream, objects are read without asking the server for their types: an object keeps
//! the namespace it was written with (none means none, and such a Role cannot be created),
//! other built-in kinds are passed over, and errors are reported after every object was
//! tried.

use clap::Args;
use http::Method;
use serde_json::{json, Value};

use super::reconciliation::{self, Operation, Outcome};
use super::typed::{self, Kind, RBAC_V1};
use crate::client::{ApiClient, Body};
use crate::cmd::print_flags::{DryRun, DryRunFlag, PrintFlags};
use crate::cmd::{out, Ctx};
use crate::error::{KubectlError, Result};
use crate::manifest::{self, Manifest};
use crate::printers::OutputFormat;

/// `kubectl auth reconcile`
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Upstream takes no arguments.
    #[arg(hide = true)]
    args: Vec<String>,
    /// Filename, directory, or URL to files identifying the resource to reconcile.
    #[arg(short = 'f', long = "filename", value_delimiter = ',')]
    filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively. Useful when you want to
    /// manage related manifests organized within the same directory.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// If true, removes extra permissions added to roles
    #[arg(long)]
    remove_extra_permissions: bool,
    /// If true, removes extra subjects added to rolebindings
    #[arg(long)]
    remove_extra_subjects: bool,
    #[command(flatten)]
    print_flags: PrintFlags,
    #[command(flatten)]
    dry_run: DryRunFlag,
}

/// What a reconcile may change.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Write (false: a client dry run, nothing is sent but GETs).
    pub confirm: bool,
    pub remove_extra_permissions: bool,
    pub remove_extra_subjects: bool,
}

/// Upstream's `--dry-run` for this command: only a client dry run is supported.
fn client_dry_run(flag: &DryRunFlag) -> Result<bool> {
    let strategy = flag.strategy().map_err(|e| match e {
        KubectlError::Usage(m) => KubectlError::usage(format!(
            "error accessing --dry-run flag for command reconcile: {m}"
        )),
        other => other,
    })?;
    if strategy == DryRun::Server {
        return Err(KubectlError::usage(
            "--dry-run=server for command reconcile is not supported yet",
        ));
    }
    Ok(strategy == DryRun::Client)
}

/// Runs `kubectl auth reconcile`.
pub async fn run(ctx: &Ctx, args: ReconcileArgs) -> Result<()> {
    // Checked in upstream's order: files, arguments, dry run, then the printer.
    if args.filename.is_empty() {
        return Err(KubectlError::usage("must specify one of -f and -k"));
    }
    if !args.args.is_empty() {
        return Err(KubectlError::usage("no arguments are allowed"));
    }
    let dry_run = client_dry_run(&args.dry_run)?;
    let client = ctx.client().await?;
    let manifests = manifest::read_all(&args.filename, args.recursive)?;
    let format = args.print_flags.format()?;
    let opts = Options {
        confirm: !dry_run,
        remove_extra_permissions: args.remove_extra_permissions,
        remove_extra_subjects: args.remove_extra_subjects,
    };
    let dry = if dry_run {
        DryRun::Client
    } else {
        DryRun::None
    };
    let mut printed = 0;
    let mut show = |o: &Outcome| -> Result<()> {
        // Upstream's YAML printer starts each object after the first with a separator.
        if matches!(format, OutputFormat::Yaml) && printed > 0 {
            out("---\n");
        }
        printed += 1;
        args.print_flags
            .print_typed(&format, &o.object, "reconciled", dry)?;
        eprint!(
            "{}",
            reconciliation::report(o, opts.remove_extra_permissions, opts.remove_extra_subjects)
        );
        Ok(())
    };
    let errors = reconcile_all(&client, manifests, &opts, &mut show).await;
    report(errors)
}

/// Ends the command as upstream's `CheckErr` does: one error alone as it is (with its
/// `error: ` prefix), several each on a line of its own without that prefix.
fn report(mut errors: Vec<KubectlError>) -> Result<()> {
    if errors.len() <= 1 {
        return errors.pop().map_or(Ok(()), Err);
    }
    for e in errors {
        match e {
            KubectlError::Usage(text) => eprintln!("{text}"),
            KubectlError::Reported | KubectlError::Exit(_) => {}
            other => eprintln!("{other}"),
        }
    }
    Err(KubectlError::Reported)
}

/// What the files' objects are to this command.
enum Item {
    /// One of the four kinds, as its Go struct holds it.
    Rbac(Kind, Value),
    /// An RBAC kind of an older version, which upstream refuses.
    OldVersion(String),
    /// A kind this command passes over.
    Skipped,
}

/// Sorts an object as upstream's decoding does; the error is a decoding error.
fn classify(m: &Manifest) -> std::result::Result<Item, String> {
    let api_version = m.object["apiVersion"].as_str().unwrap_or_default();
    let kind_name = m.object["kind"].as_str().unwrap_or_default();
    let decode_error = |why: String| format!("unable to decode \"{}\": {why}", m.source);
    let kind = Kind::from_name(kind_name);
    if let (Some(kind), RBAC_V1) = (kind, api_version) {
        return typed::typed(kind, &m.object)
            .map(|obj| Item::Rbac(kind, obj))
            .map_err(decode_error);
    }
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    if kind.is_some()
        && group == "rbac.authorization.k8s.io"
        && matches!(version, "v1beta1" | "v1alpha1")
    {
        return Ok(Item::OldVersion(format!(
            "only rbac.authorization.k8s.io/v1 is supported: not *{version}.{kind_name}"
        )));
    }
    if builtin_group(group) {
        return Ok(Item::Skipped);
    }
    Err(decode_error(format!(
        "no kind \"{kind_name}\" is registered for version \"{api_version}\" in scheme \"pkg/scheme/scheme.go:28\""
    )))
}

/// Whether a group is Kubernetes' own, whose kinds upstream's built-in scheme decodes (and
/// this command then passes over): the core group, unqualified groups (`apps`, `batch`) and
/// `*.k8s.io`. Kinds of other groups (custom resources) cannot be decoded upstream.
fn builtin_group(group: &str) -> bool {
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
}

/// Upstream's check of an object's own namespace against an explicit `-n`.
fn check_namespace(client: &ApiClient, obj: &Value) -> Result<()> {
    let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
    if client.namespace_explicit && !ns.is_empty() && ns != client.namespace {
        return Err(KubectlError::usage(format!(
            "the namespace from the provided object \"{ns}\" does not match the namespace \"{}\". You must pass '--namespace={ns}' to perform this operation.",
            client.namespace
        )));
    }
    Ok(())
}

/// Reconciles every object, calling `show` for each one done; returns the errors in
/// upstream's order: those of objects tried, then those of objects that could not be read
/// (several of which upstream shows as one line, bracketed when they differ, when others
/// precede them).
pub async fn reconcile_all(
    client: &ApiClient,
    manifests: Vec<Manifest>,
    opts: &Options,
    show: &mut dyn FnMut(&Outcome) -> Result<()>,
) -> Vec<KubectlError> {
    let mut errors = Vec::new();
    let mut unreadable = Vec::new();
    for m in manifests {
        let item = match classify(&m) {
            Ok(item) => item,
            Err(e) => {
                unreadable.push(e);
                continue;
            }
        };
        if let Err(e) = check_namespace(client, &m.object) {
            errors.push(e);
            continue;
        }
        let done = match item {
            Item::Rbac(kind, obj) => reconcile(client, kind, &obj, opts).await,
            Item::OldVersion(why) => Err(KubectlError::usage(why)),
            Item::Skipped => continue,
        };
        if let Err(e) = done.and_then(|o| show(&o)) {
            errors.push(e);
        }
    }
    match unreadable.len() {
        0 => {}
        n if n == 1 || errors.is_empty() => {
            errors.extend(unreadable.into_iter().map(KubectlError::usage));
        }
        _ => {
            let mut distinct: Vec<String> = Vec::new();
            for e in unreadable {
                if !distinct.contains(&e) {
                    distinct.push(e);
                }
            }
            let text = match distinct.as_slice() {
                [one] => one.clone(),
                many => format!("[{}]", many.join(", ")),
            };
            errors.push(KubectlError::usage(text));
        }
    }
    errors
}

/// Whether an API error has `reason` (or, without a reason, the status `code`), as
/// apimachinery's `IsNotFound` and friends decide.
fn has_reason(e: &KubectlError, want: &str, want_code: u16) -> bool {
    match e {
        KubectlError::Server { reason, code, .. } => {
            reason == want || (reason.is_empty() && *code == want_code)
        }
        _ => false,
    }
}

fn not_found(e: &KubectlError) -> bool {
    has_reason(e, "NotFound", 404)
}

fn forbidden(e: &KubectlError) -> bool {
    has_reason(e, "Forbidden", 403)
}

fn already_exists(e: &KubectlError) -> bool {
    matches!(e, KubectlError::Server { reason, .. } if reason == "AlreadyExists")
}

fn conflict(e: &KubectlError) -> bool {
    has_reason(e, "Conflict", 409)
}

/// The collection of `kind` in `namespace` (none: the path without a namespace, as
/// client-go builds it for an empty one).
fn collection(kind: Kind, namespace: &str) -> String {
    if kind.namespaced() && !namespace.is_empty() {
        format!("/apis/{RBAC_V1}/namespaces/{namespace}/{}", kind.plural())
    } else {
        format!("/apis/{RBAC_V1}/{}", kind.plural())
    }
}

/// client-go's refusal of a request for an object without a name.
fn empty_name() -> KubectlError {
    KubectlError::usage("resource name may not be empty")
}

fn meta_str<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj["metadata"][key].as_str().unwrap_or_default()
}

/// Upstream's best effort at the namespace of a Role or RoleBinding it creates: fine when
/// it exists, created when missing; not being allowed to look or create is no error.
async fn ensure_namespace(client: &ApiClient, namespace: &str) -> Result<()> {
    if namespace.is_empty() {
        return Err(empty_name());
    }
    match client.get(&format!("/api/v1/namespaces/{namespace}")).await {
        Ok(_) => return Ok(()),
        Err(e) if not_found(&e) || forbidden(&e) => {}
        Err(e) => return Err(e),
    }
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
    match send(client, Method::POST, "/api/v1/namespaces", &ns).await {
        Err(e) if !(already_exists(&e) || forbidden(&e)) => Err(e),
        _ => Ok(()),
    }
}

async fn send(client: &ApiClient, method: Method, path: &str, obj: &Value) -> Result<Value> {
    client
        .request(method, path, "application/json", Some(Body::json(obj)))
        .await
}

/// The server's answer as the Go struct holds it.
fn typed_answer(kind: Kind, v: &Value) -> Result<Value> {
    typed::typed(kind, v).map_err(KubectlError::usage)
}

/// How many times upstream looks again when the object changes under it.
fn attempts(kind: Kind) -> usize {
    if kind.is_binding() {
        4
    } else {
        3
    }
}

/// Reconciles one object of the file (`expected`) with the server's.
pub async fn reconcile(
    client: &ApiClient,
    kind: Kind,
    expected: &Value,
    opts: &Options,
) -> Result<Outcome> {
    let namespace = if kind.namespaced() {
        meta_str(expected, "namespace")
    } else {
        ""
    };
    let name = meta_str(expected, "name");
    let coll = collection(kind, namespace);
    let item = format!("{coll}/{name}");
    for _ in 0..attempts(kind) {
        if name.is_empty() {
            return Err(empty_name());
        }
        let existing = match client.get(&item).await {
            Ok(v) => Some(typed_answer(kind, &v)?),
            Err(e) if not_found(&e) => None,
            Err(e) => return Err(e),
        };
        let outcome = match (&existing, kind.is_binding()) {
            (None, false) => Outcome::create_role(expected),
            (None, true) => Outcome::create_binding(expected),
            (Some(x), false) => {
                reconciliation::reconcile_role(x, expected, opts.remove_extra_permissions)
            }
            (Some(x), true) => {
                reconciliation::reconcile_binding(x, expected, opts.remove_extra_subjects)
            }
        };
        if outcome.protected || !opts.confirm {
            return Ok(outcome);
        }
        let written = match outcome.operation {
            Operation::None => return Ok(outcome),
            Operation::Update => match send(client, Method::PUT, &item, &outcome.object).await {
                Err(e) if not_found(&e) => continue,
                other => other?,
            },
            Operation::Recreate | Operation::Create => {
                if outcome.operation == Operation::Recreate {
                    let uid = existing
                        .as_ref()
                        .map(|x| meta_str(x, "uid"))
                        .unwrap_or_default();
                    let options = json!({"kind": "DeleteOptions", "apiVersion": "v1",
                        "preconditions": {"uid": uid}});
                    match send(client, Method::DELETE, &item, &options).await {
                        Ok(_) => {}
                        Err(e) if not_found(&e) => {}
                        Err(e) if conflict(&e) => continue,
                        Err(e) => return Err(e),
                    }
                }
                if kind.namespaced() {
                    ensure_namespace(client, meta_str(&outcome.object, "namespace")).await?;
                }
                match send(client, Method::POST, &coll, &outcome.object).await {
                    Err(e) if already_exists(&e) => continue,
                    other => other?,
                }
            }
        };
        return Ok(Outcome {
            object: typed_answer(kind, &written)?,
            ..outcome
        });
    }
    Err(KubectlError::usage("exceeded maximum attempts"))
}

#[cfg(test)]
mod tests {
    use super::super::fake_api::{self, lines};
    use super::*;

    const WRITE: Options = Options {
        confirm: true,
        remove_extra_permissions: false,
        remove_extra_subjects: false,
    };

    fn manifests(text: &str) -> Vec<Manifest> {
        manifest::parse("f.yaml", text).unwrap()
    }

    /// Reconciles `text` against `client`; the outcomes shown and the errors' texts.
    async fn run_on(client: &ApiClient, text: &str, opts: Options) -> (Vec<Outcome>, Vec<String>) {
        let mut shown = Vec::new();
        let errors = reconcile_all(client, manifests(text), &opts, &mut |o: &Outcome| {
            shown.push(o.clone());
            Ok(())
        })
        .await;
        (shown, errors.iter().map(|e| e.to_string()).collect())
    }

    const ROLE_AND_BINDING: &str = "
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: n}
rules:
- {apiGroups: [''], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: n}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
";

    const ROLE_PATH: &str = "/apis/rbac.authorization.k8s.io/v1/namespaces/n/roles/r";
    const BINDING_PATH: &str = "/apis/rbac.authorization.k8s.io/v1/namespaces/n/rolebindings/b";

    #[tokio::test]
    async fn missing_objects_are_created_with_their_namespace() {
        let (client, state) = fake_api::start(&[]).await;
        let (shown, errors) = run_on(&client, ROLE_AND_BINDING, WRITE).await;
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            lines(&state),
            [
                format!("GET {ROLE_PATH}"),
                "GET /api/v1/namespaces/n".into(),
                "POST /api/v1/namespaces".into(),
                "POST /apis/rbac.authorization.k8s.io/v1/namespaces/n/roles".into(),
                format!("GET {BINDING_PATH}"),
                "GET /api/v1/namespaces/n".into(),
                "POST /apis/rbac.authorization.k8s.io/v1/namespaces/n/rolebindings".into(),
            ]
        );
        let s = state.lock().unwrap();
        assert_eq!(s.requests[2].2["metadata"]["name"], "n");
        assert_eq!(
            s.objects[ROLE_PATH]["rules"],
            json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}])
        );
        // What is shown is the server's answer.
        assert_eq!(shown[0].operation, Operation::Create);
        assert_eq!(shown[0].object["metadata"]["resourceVersion"], "1");
        assert_eq!(shown[1].missing_subjects.len(), 1);
    }

    #[tokio::test]
    async fn an_existing_role_gets_the_union_of_rules() {
        let existing = json!({"kind": "Role", "apiVersion": RBAC_V1,
            "metadata": {"name": "r", "namespace": "n", "uid": "u", "resourceVersion": "7"},
            "rules": [{"verbs": ["get", "watch"], "apiGroups": [""], "resources": ["pods"]}]});
        let (client, state) = fake_api::start(&[(ROLE_PATH, existing)]).await;
        let role_only = ROLE_AND_BINDING.split("---").next().unwrap_or_default();
        let (shown, errors) = run_on(&client, role_only, WRITE).await;
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            lines(&state),
            [format!("GET {ROLE_PATH}"), format!("PUT {ROLE_PATH}")]
        );
        let put = state.lock().unwrap().requests[1].2.clone();
        assert_eq!(put["metadata"]["resourceVersion"], "7");
        assert_eq!(
            put["rules"],
            json!([{"verbs": ["get", "watch"], "apiGroups": [""], "resources": ["pods"]},
                   {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}])
        );
        assert_eq!(shown[0].operation, Operation::Update);

        // Removing extra permissions stomps the rules with the file's.
        let remove = Options {
            remove_extra_permissions: true,
            ..WRITE
        };
        let (shown, _) = run_on(&client, role_only, remove).await;
        assert_eq!(
            shown[0].object["rules"],
            json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}])
        );
        assert_eq!(shown[0].extra_rules.len(), 1);
    }

    #[tokio::test]
    async fn a_changed_role_ref_deletes_and_creates_the_binding() {
        let existing = json!({"kind": "RoleBinding", "apiVersion": RBAC_V1,
            "metadata": {"name": "b", "namespace": "n", "uid": "u-old"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}});
        let ns = json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "n"}});
        let (client, state) =
            fake_api::start(&[(BINDING_PATH, existing), ("/api/v1/namespaces/n", ns)]).await;
        let binding_only = ROLE_AND_BINDING.split("---").nth(1).unwrap_or_default();
        let (shown, errors) = run_on(&client, binding_only, WRITE).await;
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            lines(&state),
            [
                format!("GET {BINDING_PATH}"),
                format!("DELETE {BINDING_PATH}"),
                "GET /api/v1/namespaces/n".into(),
                "POST /apis/rbac.authorization.k8s.io/v1/namespaces/n/rolebindings".into(),
            ]
        );
        let s = state.lock().unwrap();
        assert_eq!(s.requests[1].2["preconditions"]["uid"], "u-old");
        assert_eq!(s.objects[BINDING_PATH]["roleRef"]["kind"], "Role");
        assert_eq!(shown[0].operation, Operation::Recreate);
    }

    #[tokio::test]
    async fn a_client_dry_run_only_reads() {
        let (client, state) = fake_api::start(&[]).await;
        let dry = Options {
            confirm: false,
            ..WRITE
        };
        let (shown, errors) = run_on(&client, ROLE_AND_BINDING, dry).await;
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            lines(&state),
            [format!("GET {ROLE_PATH}"), format!("GET {BINDING_PATH}")]
        );
        // The file's objects are shown as they would be sent.
        assert_eq!(
            shown[0].object["metadata"]["creationTimestamp"],
            Value::Null
        );
        assert_eq!(shown[1].operation, Operation::Create);
    }

    #[tokio::test]
    async fn opted_out_objects_are_not_written() {
        let existing = json!({"kind": "Role", "apiVersion": RBAC_V1,
            "metadata": {"name": "r", "namespace": "n",
                "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "false"}},
            "rules": []});
        let (client, state) = fake_api::start(&[(ROLE_PATH, existing)]).await;
        let role_only = ROLE_AND_BINDING.split("---").next().unwrap_or_default();
        let (shown, _) = run_on(&client, role_only, WRITE).await;
        assert_eq!(lines(&state), [format!("GET {ROLE_PATH}")]);
        assert!(shown[0].protected);
        assert_eq!(shown[0].operation, Operation::Update);
    }

    #[tokio::test]
    async fn objects_keep_their_namespace_and_errors_come_last() {
        let (mut client, state) = fake_api::start(&[]).await;
        client.namespace = "other".into();
        client.namespace_explicit = true;
        let text = "
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
apiVersion: rbac.authorization.k8s.io/v1beta1
kind: ClusterRole
metadata: {name: old}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: no-namespace}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: n}
";
        let (shown, errors) = run_on(&client, text, WRITE).await;
        assert!(shown.is_empty());
        assert_eq!(
            errors,
            [
                "error: only rbac.authorization.k8s.io/v1 is supported: not *v1beta1.ClusterRole",
                "error: resource name may not be empty",
                "error: the namespace from the provided object \"n\" does not match the namespace \"other\". You must pass '--namespace=n' to perform this operation.",
                "error: unable to decode \"f.yaml\": no kind \"Widget\" is registered for version \"example.com/v1\" in scheme \"pkg/scheme/scheme.go:28\"",
            ]
        );
        // A Role without a namespace is looked for without one, and never created.
        assert_eq!(
            lines(&state),
            ["GET /apis/rbac.authorization.k8s.io/v1/roles/no-namespace"]
        );
    }

    #[test]
    fn only_client_dry_runs_are_supported() {
        let flag = |v: &str| DryRunFlag {
            value: Some(v.to_string()),
        };
        assert!(client_dry_run(&flag("client")).unwrap());
        assert!(!client_dry_run(&flag("none")).unwrap());
        assert_eq!(
            client_dry_run(&flag("server")).unwrap_err().to_string(),
            "error: --dry-run=server for command reconcile is not supported yet"
        );
        assert_eq!(
            client_dry_run(&flag("x")).unwrap_err().to_string(),
            "error: error accessing --dry-run flag for command reconcile: Invalid dry-run value (x). Must be \"none\", \"server\", or \"client\"."
        );
    }
}
