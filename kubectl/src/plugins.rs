//! kubectl plugins: executables named `kubectl-NAME` on `$PATH`. A command line whose first
//! word is no built-in command runs the plugin its leading words name (`kubectl foo bar x`
//! tries `kubectl-foo-bar`, then `kubectl-foo`; a dash inside a word stands for `_`), as
//! upstream's plugin handler does; `kubectl plugin list` lists them with their problems.

use std::collections::{BTreeSet, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The prefix that makes an executable a kubectl plugin.
const PREFIX: &str = "kubectl-";

/// The plugin `args` (the words after the program name) would run, and the arguments it
/// gets: the words after those naming it. None when the line names none (or starts with a
/// flag, which upstream refuses before looking).
pub fn for_command_line(args: &[String], path_var: &str) -> Option<(PathBuf, Vec<String>)> {
    let mut names: Vec<String> = args
        .iter()
        .take_while(|a| !a.starts_with('-'))
        .map(|a| a.replace('-', "_"))
        .collect();
    while !names.is_empty() {
        if let Some(found) = lookup(&format!("{PREFIX}{}", names.join("-")), path_var) {
            return Some((found, args[names.len()..].to_vec()));
        }
        names.pop();
    }
    None
}

/// The first executable file `name` in the directories of `path_var`.
fn lookup(name: &str, path_var: &str) -> Option<PathBuf> {
    search_dirs(path_var)
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable_file(candidate))
}

/// `$PATH`'s directories, each once, in order.
fn search_dirs(path_var: &str) -> Vec<PathBuf> {
    let mut seen = BTreeSet::new();
    std::env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty() && seen.insert(dir.clone()))
        .collect()
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Every plugin file on `path_var`, directory by directory, by name within one.
pub fn all(path_var: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in search_dirs(path_var) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with(PREFIX))
            .collect();
        names.sort();
        found.extend(names.into_iter().map(|n| dir.join(n)));
    }
    found
}

/// The problems upstream's `plugin list` reports for each plugin, in listing order:
/// not executable, hidden behind an earlier one of the same name, or named like a
/// built-in command (`is_builtin` gets the words after `kubectl-`).
pub fn problems(plugins: &[PathBuf], is_builtin: impl Fn(&[&str]) -> bool) -> Vec<Vec<String>> {
    let mut first_seen: HashMap<String, &PathBuf> = HashMap::new();
    plugins
        .iter()
        .map(|plugin| {
            let mut found = Vec::new();
            let base = plugin
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let words: Vec<&str> = base.trim_start_matches(PREFIX).split('-').collect();
            if is_builtin(&words) {
                found.push(format!(
                    "warning: {base} overwrites existing command: \"kubectl {}\"",
                    words.join(" ")
                ));
            }
            if !is_executable_file(plugin) {
                found.push(format!(
                    "warning: {} identified as a kubectl plugin, but it is not executable",
                    plugin.display()
                ));
            }
            match first_seen.get(&base) {
                Some(earlier) => found.push(format!(
                    "warning: {} is overshadowed by a similarly named plugin: {}",
                    plugin.display(),
                    earlier.display()
                )),
                None => {
                    first_seen.insert(base, plugin);
                }
            }
            found
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(dir: &Path, name: &str, executable: bool) {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        let mode = if executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_longest_plugin_name_wins_and_dashes_stand_for_underscores() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        script(a.path(), "kubectl-foo", true);
        script(a.path(), "kubectl-foo-bar", true);
        script(a.path(), "kubectl-my_tool", true);
        script(a.path(), "kubectl-off", false);
        script(b.path(), "kubectl-foo", true);
        let path_var = format!("{}:{}", a.path().display(), b.path().display());
        let run = |line: &str| for_command_line(&words(line), &path_var);
        assert_eq!(
            run("foo bar baz -n x"),
            Some((a.path().join("kubectl-foo-bar"), words("baz -n x")))
        );
        assert_eq!(
            run("foo x"),
            Some((a.path().join("kubectl-foo"), words("x")))
        );
        assert_eq!(
            run("my-tool z"),
            Some((a.path().join("kubectl-my_tool"), words("z")))
        );
        assert_eq!(run("foo-bar q"), None, "foo-bar means kubectl-foo_bar");
        assert_eq!(run("off"), None, "not executable");
        assert_eq!(run("-n x foo"), None);

        let listed = all(&path_var);
        assert_eq!(
            listed,
            [
                a.path().join("kubectl-foo"),
                a.path().join("kubectl-foo-bar"),
                a.path().join("kubectl-my_tool"),
                a.path().join("kubectl-off"),
                b.path().join("kubectl-foo"),
            ]
        );
        let found = problems(&listed, |w| w == ["my_tool"]);
        assert!(found[0].is_empty());
        assert_eq!(
            found[2],
            ["warning: kubectl-my_tool overwrites existing command: \"kubectl my_tool\""]
        );
        assert!(found[3][0]
            .ends_with("kubectl-off identified as a kubectl plugin, but it is not executable"));
        assert!(found[4][0].contains("is overshadowed by a similarly named plugin"));
    }
}
