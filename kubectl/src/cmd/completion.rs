//! `kubectl completion bash|zsh|fish`: a shell completion script generated from the command
//! tree (subcommands and flags per command path), with resource types and names completed
//! by asking the cluster through kubectl itself, as upstream's scripts do.

use clap::{Args, CommandFactory};

use super::{out, Cli};
use crate::error::{KubectlError, Result};

/// `kubectl completion SHELL`
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// bash, zsh or fish.
    shell: Option<String>,
}

/// Commands whose first argument is a resource type (then names).
const RESOURCE_COMMANDS: [&str; 10] = [
    "get", "describe", "delete", "edit", "label", "annotate", "patch", "scale", "explain", "wait",
];

fn collect(cmd: &clap::Command, path: &str, out: &mut Vec<(String, Vec<String>)>) {
    let mut words: Vec<String> = cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .flat_map(|c| {
            std::iter::once(c.get_name().to_string()).chain(c.get_all_aliases().map(String::from))
        })
        .collect();
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        if let Some(l) = a.get_long() {
            words.push(format!("--{l}"));
        }
        if let Some(s) = a.get_short() {
            words.push(format!("-{s}"));
        }
    }
    words.sort();
    words.dedup();
    out.push((path.to_string(), words));
    for sub in cmd.get_subcommands() {
        let p = if path.is_empty() {
            sub.get_name().to_string()
        } else {
            format!("{path} {}", sub.get_name())
        };
        collect(sub, &p, out);
    }
}

/// Every flag that takes a value, so the script can skip the value.
fn value_flags(cmd: &clap::Command, out: &mut Vec<String>) {
    for a in cmd.get_arguments() {
        if a.get_action().takes_values() && !a.is_positional() {
            if let Some(l) = a.get_long() {
                out.push(format!("--{l}"));
            }
            if let Some(s) = a.get_short() {
                out.push(format!("-{s}"));
            }
        }
    }
    for sub in cmd.get_subcommands() {
        value_flags(sub, out);
    }
}

/// The bash script.
pub fn bash_script() -> String {
    let mut cmd = Cli::command();
    cmd.build();
    let mut paths = Vec::new();
    collect(&cmd, "", &mut paths);
    let mut vf = Vec::new();
    value_flags(&cmd, &mut vf);
    vf.sort();
    vf.dedup();
    let mut s = String::from(
        "# bash completion for kubectl                              -*- shell-script -*-\n\n",
    );
    s.push_str("__kubectl_words()\n{\n    case \"$1\" in\n");
    for (path, words) in &paths {
        s.push_str(&format!(
            "        \"{path}\") echo \"{}\" ;;\n",
            words.join(" ")
        ));
    }
    s.push_str("    esac\n}\n\n");
    s.push_str(&format!("__kubectl_value_flags=\" {} \"\n\n", vf.join(" ")));
    s.push_str(&format!(
        r#"__kubectl_resource_command()
{{
    case "$1" in
        {}) return 0 ;;
    esac
    return 1
}}

_kubectl()
{{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" path="" args=() ns=() i w s found
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        if [[ $w == -* ]]; then
            if [[ $w != *=* && $__kubectl_value_flags == *" $w "* ]]; then
                [[ $w == -n || $w == --namespace ]] && ns=(-n "${{COMP_WORDS[i+1]}}")
                ((i++))
            fi
            continue
        fi
        found=""
        for s in $(__kubectl_words "$path"); do
            if [[ $s == "$w" ]]; then found=1; break; fi
        done
        if [[ -n $found ]]; then
            path="${{path:+$path }}$w"
        else
            args+=("$w")
        fi
    done
    if [[ $cur != -* ]] && __kubectl_resource_command "$path"; then
        if [[ ${{#args[@]}} -eq 0 ]]; then
            COMPREPLY=($(compgen -W "$(kubectl api-resources -o name 2>/dev/null | sed 's/\..*//')" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(kubectl "${{ns[@]}}" get "${{args[0]}}" -o jsonpath='{{.items[*].metadata.name}}' 2>/dev/null)" -- "$cur"))
        fi
        return 0
    fi
    COMPREPLY=($(compgen -W "$(__kubectl_words "$path")" -- "$cur"))
}}

complete -o default -F _kubectl kubectl
"#,
        RESOURCE_COMMANDS.join("|")
    ));
    s
}

/// The zsh script: the bash one through zsh's bash-completion emulation.
pub fn zsh_script() -> String {
    format!("#compdef kubectl\ncompdef _kubectl kubectl\n\nautoload -U +X bashcompinit && bashcompinit\n\n{}", bash_script())
}

/// The fish script: the same command tree, as a `__kubectl_words PATH` function that a single
/// `complete` rule asks for the words after the command path typed so far.
pub fn fish_script() -> String {
    let mut cmd = Cli::command();
    cmd.build();
    let mut paths = Vec::new();
    collect(&cmd, "", &mut paths);
    let mut vf = Vec::new();
    value_flags(&cmd, &mut vf);
    vf.sort();
    vf.dedup();
    let mut s = String::from("# fish completion for kubectl\n\n");
    s.push_str("function __kubectl_words\n    switch \"$argv[1]\"\n");
    for (path, words) in paths.iter().filter(|(_, w)| !w.is_empty()) {
        s.push_str(&format!(
            "        case '{path}'\n            printf '%s\\n' {}\n",
            words.join(" ")
        ));
    }
    s.push_str("    end\nend\n\n");
    s.push_str(&format!(
        r#"set -g __kubectl_value_flags {}

# The subcommand path typed so far, then the other words (resource type, names).
function __kubectl_parse
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -g __kubectl_cmd_path
    set -g __kubectl_cmd_args
    set -g __kubectl_cmd_ns
    set -l skip 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $t
            if not string match -q -- '*=*' $t; and contains -- $t $__kubectl_value_flags
                set skip 1
                if contains -- $t -n --namespace
                    set skip 2
                end
            end
            continue
        end
        if test $skip = 2
            set -g __kubectl_cmd_ns -n $t
            set skip 0
            continue
        end
        if contains -- $t (__kubectl_words (string join ' ' $__kubectl_cmd_path))
            set -g __kubectl_cmd_path $__kubectl_cmd_path $t
        else
            set -g __kubectl_cmd_args $__kubectl_cmd_args $t
        end
    end
end

function __kubectl_complete
    __kubectl_parse
    set -l path (string join ' ' $__kubectl_cmd_path)
    if not string match -q -- '-*' (commandline -ct); and contains -- "$path" {}
        if test (count $__kubectl_cmd_args) -eq 0
            kubectl api-resources -o name 2>/dev/null | string replace -r '\..*' ''
        else
            kubectl $__kubectl_cmd_ns get $__kubectl_cmd_args[1] -o name 2>/dev/null | string replace -r '^.*/' ''
        end
        return
    end
    __kubectl_words "$path"
end

complete -c kubectl -f -a '(__kubectl_complete)'
"#,
        vf.join(" "),
        RESOURCE_COMMANDS.join(" ")
    ));
    s
}

/// Runs `kubectl completion`.
pub fn run(a: CompletionArgs) -> Result<()> {
    match a.shell.as_deref() {
        None => Err(KubectlError::usage(
            "Shell not specified.\nSee 'kubectl completion -h' for help and examples",
        )),
        Some("bash") => {
            out(&bash_script());
            Ok(())
        }
        Some("zsh") => {
            out(&zsh_script());
            Ok(())
        }
        Some("fish") => {
            out(&fish_script());
            Ok(())
        }
        Some(other) => Err(KubectlError::usage(format!(
            "Unsupported shell type \"{other}\"."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_script_knows_commands_and_flags_and_parses() {
        let s = bash_script();
        assert!(s.contains("\"create\") echo \""));
        let secret = s
            .lines()
            .find(|l| l.contains("\"create secret\") echo"))
            .unwrap();
        assert!(
            secret.contains(" generic ") && secret.contains(" tls\""),
            "{secret}"
        );
        assert!(s.contains("--kubeconfig"));
        assert!(s.contains("complete -o default -F _kubectl kubectl"));
        // The script must at least be valid bash.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.bash");
        std::fs::write(&f, &s).unwrap();
        let status = std::process::Command::new("bash")
            .arg("-n")
            .arg(&f)
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn fish_script_lists_paths_and_words() {
        let s = fish_script();
        assert!(s.contains("        case 'top'\n"), "top path");
        let top = s.split("        case 'top'\n").nth(1).unwrap();
        let words = top.lines().next().unwrap();
        assert!(
            words.contains(" node ") && words.contains(" pod "),
            "{words}"
        );
        assert!(s.contains("        case 'certificate'\n"));
        assert!(s.contains("complete -c kubectl -f -a '(__kubectl_complete)'"));
        // Every switch case sits inside the one function.
        assert_eq!(s.matches("switch ").count(), 1);
    }

    #[test]
    fn zsh_wraps_bash() {
        assert!(zsh_script().starts_with("#compdef kubectl\n"));
    }
}
