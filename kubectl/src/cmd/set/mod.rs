//! `kubectl set image|env|resources|serviceaccount|selector|subject`: change the pod template
//! of workloads (or a pod's spec), a Service's selector or a binding's subjects with a
//! strategic merge patch, printing `KIND/NAME <what> updated` for each object that changed, as
//! upstream does.
//!
//! Objects come from `TYPE NAME` words, from the names in `-f` manifests, or with `--local`
//! from the manifests themselves, which are then changed and printed without a server
//! ([`objects`]). What is printed is the object as upstream's typed round trip shows it
//! ([`typed`], [`prune`], and for JSON [`crate::printers::go_order`]); [`change::Change`] runs the loop every
//! subcommand shares.

mod change;
mod env;
mod env_resolve;
mod image;
mod objects;
mod prune;
mod resources;
mod selector;
mod serviceaccount;
mod subject;
mod typed;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::print_flags::{DryRun, DryRunFlag, PrintFlags};
use super::Ctx;
use crate::error::{KubectlError, Result};

/// `kubectl set`
#[derive(Debug, Args)]
pub struct SetArgs {
    #[command(subcommand)]
    what: SetCommand,
}

#[derive(Debug, Subcommand)]
enum SetCommand {
    /// Update the image of a pod template.
    Image(image::ImageArgs),
    /// Update environment variables on a pod template.
    Env(env::EnvArgs),
    /// Update resource requests/limits on objects with pod templates.
    Resources(resources::ResourcesArgs),
    /// Update the service account of a resource.
    #[command(name = "serviceaccount", alias = "sa")]
    ServiceAccount(serviceaccount::ServiceAccountArgs),
    /// Set the selector on a resource.
    Selector(selector::SelectorArgs),
    /// Update the User, Group, or ServiceAccount in a role binding or cluster role binding.
    Subject(subject::SubjectArgs),
}

/// The flags every `set` command takes to choose, write and print objects (`-f`/`-R` and
/// `-l` are each command's own: `set selector` recurses by default and has no `-l`).
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Select all resources, in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
    /// If true, change the objects of the -f files here and print them, without contacting
    /// the api-server.
    #[arg(long)]
    local: bool,
    #[command(flatten)]
    print_flags: PrintFlags,
    #[command(flatten)]
    dry_run: DryRunFlag,
    /// Name of the manager used to track field ownership.
    #[arg(long, default_value = "kubectl-set")]
    field_manager: String,
}

impl TargetArgs {
    /// The objects `words` or the `-f` files name, selected by `-l`/`--all`, read before
    /// anything changes and only if every one could be read (image, resources and
    /// subject). With `--local`, type/name words are refused as upstream refuses them.
    async fn find_every(
        &self,
        ctx: &Ctx,
        words: &[String],
        files: &super::create::FileArgs,
        selector: Option<&str>,
    ) -> Result<objects::Found> {
        if self.local && !words.is_empty() {
            return Err(KubectlError::usage(objects::LOCAL_RESOURCE_ERROR));
        }
        let selection = objects::Selection {
            words,
            files,
            selector,
            all: self.all,
            local: self.local,
        };
        objects::find(ctx, selection).await?.all_or_nothing()
    }

    /// Upstream's refusal of `--local` with a dry run the server would have to do.
    fn check_local_dry_run(&self, dry: DryRun) -> Option<KubectlError> {
        (self.local && dry == DryRun::Server).then(|| {
            KubectlError::usage(
                "cannot specify --local and --dry-run=server - did you mean --dry-run=client?",
            )
        })
    }

    /// Upstream's refusal of `--all` with `-l`.
    fn check_all_and_selector(&self, selector: Option<&str>) -> Option<KubectlError> {
        (self.all && selector.is_some_and(|s| !s.is_empty()))
            .then(|| KubectlError::usage("cannot set --all and --selector at the same time"))
    }
}

/// Runs `kubectl set`.
pub async fn run(ctx: &Ctx, args: SetArgs) -> Result<()> {
    match args.what {
        SetCommand::Image(a) => image::run(ctx, a).await,
        SetCommand::Env(a) => env::run(ctx, a).await,
        SetCommand::Resources(a) => resources::run(ctx, a).await,
        SetCommand::ServiceAccount(a) => serviceaccount::run(ctx, a).await,
        SetCommand::Selector(a) => selector::run(ctx, a).await,
        SetCommand::Subject(a) => subject::run(ctx, a).await,
    }
}

/// Where a kind keeps its pod spec.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Pod" => "/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicationController"
        | "Job" => "/spec/template/spec",
        _ => return None,
    })
}

/// The pointer to `obj`'s pod spec, or upstream's refusal of an object without one.
fn pod_spec_of(obj: &Value) -> Result<&'static str> {
    pod_spec_pointer(obj["kind"].as_str().unwrap_or_default()).ok_or_else(|| {
        KubectlError::usage(format!(
            "the object is not a pod or does not have a pod template: {}",
            typed::go_type(obj)
        ))
    })
}

/// `inner` nested along a JSON pointer (`/spec/template/spec` → `{"spec": {"template": …}}`).
fn nest(pointer: &str, inner: Value) -> Value {
    pointer
        .trim_start_matches('/')
        .split('/')
        .rev()
        .fold(inner, |patch, seg| json!({ seg: patch }))
}

/// Whether a container name matches a `--containers` selector (a shell pattern: `*` for
/// any run of characters, `?` for one).
fn name_matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// Reports errors as upstream's `CheckErr` does: one alone with an `error: ` prefix (unless
/// it has one), several each on its own line as they are (upstream's per-object messages
/// end with a newline of their own, which leaves a blank line after each).
fn report(mut errors: Vec<KubectlError>) -> Result<()> {
    match errors.len() {
        0 => Ok(()),
        1 => match errors.pop() {
            Some(KubectlError::Usage(text)) => {
                let text = if text.starts_with("error: ") {
                    text
                } else {
                    format!("error: {text}")
                };
                eprint!("{}", with_newline(text));
                Err(KubectlError::Reported)
            }
            Some(other) => Err(other),
            None => Ok(()),
        },
        _ => {
            for e in errors {
                match e {
                    KubectlError::Usage(text) => eprintln!("{text}"),
                    KubectlError::Reported | KubectlError::Exit(_) => {}
                    other => eprintln!("{}", other.final_message()),
                }
            }
            Err(KubectlError::Reported)
        }
    }
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Command;
    use crate::flags::{self, Refused};

    fn parse(line: &str) -> std::result::Result<SetCommand, String> {
        let argv = std::iter::once("kubectl")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        match flags::parse(argv) {
            Ok(cli) => match cli.command {
                Command::Set(a) => Ok(a.what),
                other => panic!("{line}: {other:?}"),
            },
            Err(Refused::Usage(text)) => Err(text),
            Err(Refused::Shown(e)) => panic!("{line}: {e}"),
        }
    }

    #[test]
    fn every_set_takes_the_file_local_and_manager_flags() {
        for line in [
            "set image -f d.yaml -R --local --field-manager=m main=x",
            "set env -f d.yaml -R --local --field-manager=m A=1",
            "set resources -f d.yaml -R --local --field-manager=m --limits=cpu=1",
            "set sa -f d.yaml -R --local --field-manager=m robot",
            "set selector -f s.yaml -R --local --field-manager=m a=b",
            "set subject -f rb.yaml -R --local --field-manager=m --group=g",
        ] {
            assert!(parse(line).is_ok(), "{line}");
        }
        match parse("set image deploy/x main=y") {
            Ok(SetCommand::Image(a)) => assert_eq!(a.targets().field_manager, "kubectl-set"),
            other => panic!("{other:?}"),
        }
        // As upstream: serviceaccount and selector have no -l.
        assert!(parse("set sa deploy/x robot -l a=b").is_err());
        assert!(parse("set selector svc/x a=b -l a=b").is_err());
    }

    #[test]
    fn selector_recurses_into_directories_unless_told_not_to() {
        match parse("set selector -f dir a=b") {
            Ok(SetCommand::Selector(a)) => assert!(a.recursive()),
            other => panic!("{other:?}"),
        }
        match parse("set selector -f dir -R=false a=b") {
            Ok(SetCommand::Selector(a)) => assert!(!a.recursive()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bad_dry_run_is_refused_before_a_bad_output() {
        let Ok(SetCommand::Image(a)) = parse("set image deploy/x a=b --dry-run=maybe -o nope")
        else {
            panic!("parses");
        };
        let err = change::Change::new(a.targets(), "image updated", change::Wording::Visit)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("error: Invalid dry-run value (maybe). Must be \"none\", \"server\", or \"client\".")
        );
    }

    #[test]
    fn patches_nest_along_the_pointer_and_names_match_patterns() {
        assert_eq!(
            nest("/spec/template/spec", json!({"x": 1})),
            json!({"spec": {"template": {"spec": {"x": 1}}}})
        );
        assert!(name_matches("*", "web"));
        assert!(name_matches("w?b", "web"));
        assert!(name_matches("side*", "sidecar"));
        assert!(!name_matches("web", "web2"));
    }

    #[test]
    fn objects_without_a_pod_template_are_refused_with_their_go_type() {
        let svc = json!({"apiVersion": "v1", "kind": "Service"});
        assert_eq!(
            pod_spec_of(&svc).unwrap_err().to_string(),
            "error: the object is not a pod or does not have a pod template: *v1.Service"
        );
        let cj = json!({"apiVersion": "batch/v1", "kind": "CronJob"});
        assert_eq!(
            pod_spec_of(&cj).unwrap(),
            "/spec/jobTemplate/spec/template/spec"
        );
    }
}
