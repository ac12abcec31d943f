//! The flags of the commands that change objects and show what they did, and the one way
//! they show it: `kind.group/name <verb>`, or the object in the `-o` format.
//!
//! Two structs, as upstream has two: [`PrintFlags`] is its `genericclioptions.PrintFlags`
//! (`-o`, `--template`, `--show-managed-fields`, `--allow-missing-template-keys`) and
//! [`DryRunFlag`] its `cmdutil.AddDryRunFlag` (`--dry-run`). Upstream pairs them as each
//! command needs: `certificate approve` and `create token` print without a dry run, `cordon`
//! and `drain` have a dry run but print no object, most writers take both. A command
//! flattens the ones it has; the boolean flags get pflag's syntax (`--show-managed-fields=false`)
//! from `crate::flags`, as every boolean does.
//!
//! `delete` keeps its own `-o` and `--dry-run`: upstream gives it different ones.

use clap::{ArgAction, Args};
use serde_json::Value;

use super::out;
use crate::error::{KubectlError, Result};
use crate::printers::{json as jsonp, yaml, OutputFormat};

/// `-o`, `--template`, `--show-managed-fields` and `--allow-missing-template-keys`.
#[derive(Debug, Args, Clone)]
pub struct PrintFlags {
    /// Output format. One of: (json, yaml, name, go-template, go-template-file, template,
    /// templatefile, jsonpath, jsonpath-as-json, jsonpath-file).
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Template string or path to template file to use when -o=go-template,
    /// -o=go-template-file. The template format is golang templates
    /// [http://golang.org/pkg/text/template/#pkg-overview].
    #[arg(long)]
    pub template: Option<String>,
    /// If true, keep the managedFields when printing objects in JSON or YAML format.
    #[arg(long)]
    pub show_managed_fields: bool,
    /// If true, ignore any errors in templates when a field or map key is missing in the
    /// template. Only applies to golang and jsonpath output formats.
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    pub allow_missing_template_keys: bool,
}

/// The formats upstream's PrintFlags offer (`get` adds `wide` and `custom-columns`).
const OBJECT_FORMATS: &str = "go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,yaml";

impl PrintFlags {
    /// The format `-o` and `--template` ask for (`--template` alone means go-template;
    /// neither means the `kind/name <verb>` line), read as upstream's PrintFlags read it:
    /// `wide` and `custom-columns` are `get`'s only, and an unknown format is refused with
    /// the list of the others.
    pub fn format(&self) -> Result<OutputFormat> {
        let refuse = |shown: &str| {
            KubectlError::usage(format!(
                "unable to match a printer suitable for the output format \"{shown}\", allowed formats are: {OBJECT_FORMATS}"
            ))
        };
        match OutputFormat::parse_with_template(self.output.as_deref(), self.template.as_deref()) {
            Ok(OutputFormat::Wide | OutputFormat::CustomColumns(_)) => {
                Err(refuse(self.output.as_deref().unwrap_or_default()))
            }
            Err(KubectlError::Usage(m)) if m.starts_with("unable to match a printer") => {
                let named = m
                    .split(", allowed formats are: ")
                    .next()
                    .unwrap_or_default();
                Err(KubectlError::usage(format!(
                    "{named}, allowed formats are: {OBJECT_FORMATS}"
                )))
            }
            other => other.map(|f| f.allowing_missing_keys(self.allow_missing_template_keys)),
        }
    }

    /// Whether `-o` was given a format (upstream's `OutputFlagSpecified`): `--template`
    /// alone does not count.
    pub fn output_specified(&self) -> bool {
        self.output.as_deref().is_some_and(|o| !o.is_empty())
    }

    /// Prints what a command did to `obj` in `format` (from [`PrintFlags::format`], parsed
    /// once per command): the object, or `kind.group/name <verb>` with the dry-run note.
    pub fn print(&self, format: &OutputFormat, obj: &Value, verb: &str, dry: DryRun) -> Result<()> {
        print_object(format, obj, verb, dry, self.show_managed_fields)
    }

    /// [`Self::print`] for an object upstream holds as a Go struct (a generator's object,
    /// or a typed client's answer): its JSON comes out in Go's field order.
    pub fn print_typed(
        &self,
        format: &OutputFormat,
        obj: &Value,
        verb: &str,
        dry: DryRun,
    ) -> Result<()> {
        if !matches!(format, OutputFormat::Json) {
            return self.print(format, obj, verb, dry);
        }
        let mut obj = obj.clone();
        if !self.show_managed_fields {
            omit_managed_fields(format, &mut obj);
        }
        out(&crate::printers::go_order::to_json(&obj));
        Ok(())
    }
}

/// `--dry-run`: given alone it means `client` (with upstream's deprecation warning); absent,
/// `none`. Like every pflag flag with a default for the bare form, a value must be joined
/// with `=`: in `--dry-run client`, `client` is an argument of the command.
#[derive(Debug, Args, Clone)]
pub struct DryRunFlag {
    /// Must be "none", "server", or "client". If client strategy, only print the object that
    /// would be sent, without sending it. If server strategy, submit server-side request
    /// without persisting the resource.
    #[arg(
        id = "dry_run",
        long = "dry-run",
        value_name = "DRY_RUN",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = DRY_RUN_ALONE
    )]
    pub value: Option<String>,
}

/// What `--dry-run` given alone stands for (pflag's NoOptDefVal, upstream's word for it).
pub const DRY_RUN_ALONE: &str = "unchanged";

impl DryRunFlag {
    /// The dry-run strategy asked for (upstream's `GetDryRunStrategy`), logging upstream's
    /// klog warning for the deprecated spellings.
    pub fn strategy(&self) -> Result<DryRun> {
        let (strategy, warning) = DryRun::read(self.value.as_deref())?;
        if let Some((line, text)) = warning {
            crate::klog::warning("helpers.go", line, &text);
        }
        Ok(strategy)
    }
}

/// A write done, only tried by the server, or only printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRun {
    /// Really do it.
    None,
    /// Print only.
    Client,
    /// Ask the server with `dryRun=All`.
    Server,
}

impl DryRun {
    /// Reads `--dry-run`'s value: the strategy, and the warning upstream logs for it (its
    /// source line in 1.33's helpers.go and text). Go booleans and the bare flag still work
    /// but are deprecated.
    fn read(value: Option<&str>) -> Result<(Self, Option<(u32, String)>)> {
        let value = value.unwrap_or("none");
        if let Ok(b) = crate::flags::go_bool(value) {
            let (strategy, word, line) = if b {
                (DryRun::Client, "client", 717)
            } else {
                (DryRun::None, "none", 720)
            };
            let text = format!(
                "--dry-run={value} is deprecated (boolean value) and can be replaced with --dry-run={word}."
            );
            return Ok((strategy, Some((line, text))));
        }
        match value {
            DRY_RUN_ALONE => Ok((
                DryRun::Client,
                Some((
                    703,
                    "--dry-run is deprecated and can be replaced with --dry-run=client."
                        .to_string(),
                )),
            )),
            "client" => Ok((DryRun::Client, None)),
            "server" => Ok((DryRun::Server, None)),
            "none" => Ok((DryRun::None, None)),
            other => Err(KubectlError::usage(format!(
                "Invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\"."
            ))),
        }
    }

    /// The query parameter to add (with a leading `&`).
    pub fn query(self) -> &'static str {
        if self == DryRun::Server {
            "&dryRun=All"
        } else {
            ""
        }
    }

    /// What the `kind/name <verb>` line ends with.
    pub fn suffix(self) -> &'static str {
        match self {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    }
}

/// Prints the outcome of a mutation: `kind.group/name <verb>` or the object in `-o` format,
/// without its managedFields.
pub fn print_result(format: &OutputFormat, obj: &Value, verb: &str, dry: DryRun) -> Result<()> {
    print_object(format, obj, verb, dry, false)
}

/// [`print_result`], keeping managedFields when `show_managed_fields`.
pub fn print_object(
    format: &OutputFormat,
    obj: &Value,
    verb: &str,
    dry: DryRun,
    show_managed_fields: bool,
) -> Result<()> {
    let mut obj = obj.clone();
    if !show_managed_fields {
        omit_managed_fields(format, &mut obj);
    }
    let obj = &obj;
    match format {
        OutputFormat::Table | OutputFormat::Wide => out(&format!(
            "{} {verb}{}\n",
            super::get::name_of(obj),
            dry.suffix()
        )),
        OutputFormat::Name => out(&format!("{}\n", super::get::name_of(obj))),
        OutputFormat::Yaml => out(&yaml::to_yaml(obj)),
        OutputFormat::Json => out(&jsonp::to_json(obj)),
        OutputFormat::JsonPath(t) => out(&t.execute(obj).map_err(KubectlError::usage)?),
        OutputFormat::GoTemplate(t) => super::get::render_go_template(t, obj)?,
        OutputFormat::CustomColumns(c) => out(&crate::printers::custom_columns::render(
            c,
            std::slice::from_ref(obj),
            false,
        )),
    }
    Ok(())
}

/// Leaves out `metadata.managedFields`, of the object or of each item of a list, when
/// `format` is JSON or YAML: what upstream's printers do without `--show-managed-fields`.
pub fn omit_managed_fields(format: &OutputFormat, obj: &mut Value) {
    super::get::omit_managed_fields_for(format, obj);
    if let Some(items) = obj.get_mut("items").and_then(Value::as_array_mut) {
        for item in items {
            super::get::omit_managed_fields_for(format, item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::cmd::{Cli, Command};
    use crate::flags::{self, Refused};

    fn parse(line: &str) -> Cli {
        let argv = std::iter::once("kubectl")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        match flags::parse(argv) {
            Ok(cli) => cli,
            Err(Refused::Usage(text)) => panic!("{line}: {text}"),
            Err(Refused::Shown(e)) => panic!("{line}: {e}"),
        }
    }

    fn usage(line: &str) -> String {
        let argv = std::iter::once("kubectl")
            .chain(line.split_whitespace())
            .map(String::from)
            .collect();
        match flags::parse(argv) {
            Err(Refused::Usage(text)) => text,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn taint(line: &str) -> (PrintFlags, DryRunFlag) {
        match parse(line).command {
            Command::Taint(a) => (a.print_flags, a.dry_run),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn dry_run_alone_means_client_and_absent_none() {
        let (_, dry) = taint("taint nodes n a=b:NoSchedule --dry-run");
        assert_eq!(dry.strategy().unwrap(), DryRun::Client);
        let (_, dry) = taint("taint nodes n a=b:NoSchedule");
        assert_eq!(dry.strategy().unwrap(), DryRun::None);
        let (_, dry) = taint("taint nodes n a=b:NoSchedule --dry-run=server");
        assert_eq!(dry.strategy().unwrap(), DryRun::Server);
        assert_eq!(dry.strategy().unwrap().query(), "&dryRun=All");
    }

    #[test]
    fn old_spellings_work_with_upstreams_warnings() {
        let read = |v: Option<&str>| DryRun::read(v).map(|(d, w)| (d, w.map(|(l, _)| l)));
        assert_eq!(read(None).unwrap(), (DryRun::None, None));
        assert_eq!(read(Some("client")).unwrap(), (DryRun::Client, None));
        assert_eq!(read(Some("server")).unwrap(), (DryRun::Server, None));
        assert_eq!(read(Some("none")).unwrap(), (DryRun::None, None));
        assert_eq!(
            read(Some(DRY_RUN_ALONE)).unwrap(),
            (DryRun::Client, Some(703))
        );
        assert_eq!(read(Some("true")).unwrap(), (DryRun::Client, Some(717)));
        assert_eq!(read(Some("F")).unwrap(), (DryRun::None, Some(720)));
        let (_, warning) = DryRun::read(Some("1")).unwrap();
        assert_eq!(
            warning.unwrap().1,
            "--dry-run=1 is deprecated (boolean value) and can be replaced with --dry-run=client."
        );
    }

    #[test]
    fn a_dry_run_value_needs_an_equals_sign() {
        // `client` is then the command's argument, as pflag reads it.
        assert!(usage("create ns x --dry-run client").contains("got 2"));
        let (_, dry) = taint("taint nodes n a=b:NoSchedule --dry-run");
        assert_eq!(dry.value.as_deref(), Some(DRY_RUN_ALONE));
    }

    #[test]
    fn an_unknown_dry_run_is_refused_in_upstreams_words() {
        let (_, dry) = taint("taint nodes n a=b:NoSchedule --dry-run=bogus");
        assert_eq!(
            dry.strategy().unwrap_err().to_string(),
            "error: Invalid dry-run value (bogus). Must be \"none\", \"server\", or \"client\"."
        );
    }

    #[test]
    fn template_alone_means_go_template() {
        let (print, _) = taint("taint nodes n a=b:NoSchedule --template={{.kind}}");
        assert!(matches!(
            print.format().unwrap(),
            OutputFormat::GoTemplate(_)
        ));
        assert!(!print.output_specified());
        let (print, _) = taint("taint nodes n a=b:NoSchedule");
        assert!(matches!(print.format().unwrap(), OutputFormat::Table));
        assert!(print.allow_missing_template_keys);
        assert!(!print.show_managed_fields);
        let (print, _) = taint("taint nodes n a=b:NoSchedule -o yaml --show-managed-fields");
        assert!(matches!(print.format().unwrap(), OutputFormat::Yaml));
        assert!(print.output_specified());
        assert!(print.show_managed_fields);
    }

    #[test]
    fn booleans_take_go_values() {
        let (print, _) = taint(
            "taint nodes n a=b:NoSchedule --show-managed-fields=T --allow-missing-template-keys=false",
        );
        assert!(print.show_managed_fields);
        assert!(!print.allow_missing_template_keys);
        assert_eq!(
            usage("certificate approve c --allow-missing-template-keys=maybe"),
            "error: invalid argument \"maybe\" for \"--allow-missing-template-keys\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\nSee 'kubectl certificate approve --help' for usage.\n"
        );
    }

    /// Every command upstream gives these flags accepts them.
    #[test]
    fn the_commands_that_print_take_all_print_flags() {
        let print =
            "-o yaml --template={{.kind}} --show-managed-fields --allow-missing-template-keys=true";
        for command in [
            "create -f x.yaml --dry-run=client",
            "create namespace x --dry-run=client",
            "create token sa",
            "apply -f x.yaml --dry-run=server",
            "replace -f x.yaml --dry-run=client",
            "label cm x a=b --dry-run=client",
            "annotate cm x a=b --dry-run=client",
            "patch cm x -p {} --dry-run=client",
            "scale deploy x --replicas=1 --dry-run=client",
            "taint nodes n a=b:NoSchedule --dry-run=client",
            "expose deploy x --port=80 --dry-run=client",
            "autoscale deploy x --max=2 --dry-run=client",
            "run x --image=i --dry-run=client",
            "set image deploy/x a=b --dry-run=client",
            "set env deploy/x A=1 --dry-run=client",
            "set resources deploy/x --limits=cpu=1 --dry-run=client",
            "set serviceaccount deploy/x sa --dry-run=client",
            "set selector svc/x a=b --dry-run=client",
            "set subject rolebinding/x --user=u --dry-run=client",
            "certificate approve c",
            "certificate deny c",
            "events",
            "auth whoami",
        ] {
            parse(&format!("{command} {print}"));
        }
        for command in ["cordon n", "uncordon n", "drain n"] {
            parse(&format!("{command} --dry-run=client"));
        }
    }

    /// And none that upstream gives only some of them accepts the rest.
    #[test]
    fn commands_without_print_flags_refuse_them() {
        assert_eq!(
            usage("cordon n --template={{.kind}}"),
            "error: unknown flag: --template\nSee 'kubectl cordon --help' for usage.\n"
        );
        assert_eq!(
            usage("certificate approve c --dry-run"),
            "error: unknown flag: --dry-run\nSee 'kubectl certificate approve --help' for usage.\n"
        );
        assert_eq!(
            usage("create token sa --dry-run=client"),
            "error: unknown flag: --dry-run\nSee 'kubectl create token --help' for usage.\n"
        );
    }

    #[test]
    fn managed_fields_are_left_out_of_json_and_yaml_only() {
        let managed = json!([{"manager": "kubectl"}]);
        let obj = json!({"kind": "ConfigMap", "metadata": {"name": "a", "managedFields": managed}});
        let list = json!({"kind": "List", "items": [obj.clone(), obj.clone()]});
        let mut o = obj.clone();
        omit_managed_fields(&OutputFormat::Yaml, &mut o);
        assert_eq!(o, json!({"kind": "ConfigMap", "metadata": {"name": "a"}}));
        let mut l = list.clone();
        omit_managed_fields(&OutputFormat::Json, &mut l);
        assert_eq!(l["items"][1]["metadata"], json!({"name": "a"}));
        let mut o = obj.clone();
        omit_managed_fields(&OutputFormat::Name, &mut o);
        assert_eq!(o, obj);
    }

    #[test]
    fn object_formats_are_upstreams_print_flags_ones() {
        let flags = |output: &str| PrintFlags {
            output: Some(output.to_string()),
            template: None,
            show_managed_fields: false,
            allow_missing_template_keys: true,
        };
        let refused = |output: &str| flags(output).format().unwrap_err().to_string();
        let list = "allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,yaml";
        assert_eq!(
            refused("wide"),
            format!(
                "error: unable to match a printer suitable for the output format \"wide\", {list}"
            )
        );
        assert_eq!(
            refused("custom-columns=A:.kind"),
            format!("error: unable to match a printer suitable for the output format \"custom-columns=A:.kind\", {list}")
        );
        assert_eq!(
            refused("bogus"),
            format!(
                "error: unable to match a printer suitable for the output format \"bogus\", {list}"
            )
        );
        assert!(matches!(
            flags("jsonpath={.kind}").format().unwrap(),
            OutputFormat::JsonPath(_)
        ));
        // Other mistakes keep their own words.
        assert_eq!(
            refused("go-template"),
            "error: template format specified but no template given"
        );
    }

    #[test]
    fn the_line_names_the_object_and_the_dry_run() {
        assert_eq!(DryRun::None.suffix(), "");
        assert_eq!(DryRun::Client.suffix(), " (dry run)");
        assert_eq!(DryRun::Server.suffix(), " (server dry run)");
        assert_eq!(DryRun::Client.query(), "");
    }
}
