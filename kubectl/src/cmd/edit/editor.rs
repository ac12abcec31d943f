//! The file the user edits: upstream's header and retry reasons above the objects, comments
//! stripped on the way back, and the editor named by `$KUBE_EDITOR`/`$EDITOR` (default
//! `vi`) started on it.

use crate::error::{KubectlError, Result};

/// The comment block upstream puts above the objects.
pub const HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,\n# and an empty file will abort the edit. If an error occurs while saving this file will be\n# reopened with the relevant failures.\n#\n";

/// The file's text: the header, the error lines of the last attempt, then the body. JSON
/// files have no header (comments would not parse as JSON), as upstream writes them.
pub fn render(body: &str, errors: &[String], header: bool) -> String {
    if !header {
        return body.to_string();
    }
    let mut s = HEADER.to_string();
    for e in errors {
        for line in e.lines() {
            s.push_str(&format!("# {line}\n"));
        }
        s.push_str("#\n");
    }
    s.push_str(body);
    s
}

/// `--windows-line-endings`: every line ended with `\r\n`, as upstream's CRLF writer does.
pub fn with_crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Drops comment lines; `None` when nothing but whitespace is left (edit cancelled).
pub fn strip_comments(text: &str) -> Option<String> {
    let kept: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    (!kept.trim().is_empty()).then_some(kept)
}

/// The command line that opens `path`: upstream's rules for `$KUBE_EDITOR`/`$EDITOR`
/// (a value with quotes or backslashes goes through `sh -c`).
pub fn editor_command(editor: &str, path: &str) -> Vec<String> {
    if !editor.contains(' ') {
        return vec![editor.to_string(), path.to_string()];
    }
    if !editor.contains(['"', '\'', '\\']) {
        let mut v: Vec<String> = editor.split(' ').map(String::from).collect();
        v.push(path.to_string());
        return v;
    }
    vec!["sh".into(), "-c".into(), format!("{editor} {path:?}")]
}

/// Runs the user's editor on `path` and waits for it.
pub(crate) fn launch(path: &str) -> Result<()> {
    let editor = ["KUBE_EDITOR", "EDITOR"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "vi".into());
    let cmd = editor_command(&editor, path);
    let status = std::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .status()
        .map_err(|e| {
            KubectlError::usage(format!("unable to launch the editor \"{editor}\": {e}"))
        })?;
    if !status.success() {
        return Err(KubectlError::usage(format!(
            "there was a problem with the editor \"{editor}\""
        )));
    }
    Ok(())
}

/// A fresh YAML file name in the temporary directory.
pub(crate) fn temp_path() -> String {
    temp_path_with("yaml")
}

/// A fresh file name in the temporary directory ending in `.ext`.
pub(crate) fn temp_path_with(ext: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir()
        .join(format!("kubectl-edit-{}{n}.{ext}", std::process::id()))
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_errors() {
        let text = render(
            "a: 1\n",
            &["configmaps \"x\" was not valid:\n* bad".into()],
            true,
        );
        assert!(text.starts_with(HEADER));
        assert!(text.ends_with("# configmaps \"x\" was not valid:\n# * bad\n#\na: 1\n"));
        assert_eq!(strip_comments(&text).unwrap(), "a: 1\n");
        assert_eq!(strip_comments(HEADER), None);
        assert_eq!(render("{}\n", &["bad".into()], false), "{}\n");
    }

    #[test]
    fn windows_line_endings_end_every_line() {
        assert_eq!(with_crlf("a: 1\nb: 2\n"), "a: 1\r\nb: 2\r\n");
        assert_eq!(with_crlf("a\r\nb\n"), "a\r\nb\r\n");
    }

    #[test]
    fn editor_command_rules() {
        assert_eq!(editor_command("vi", "/f"), vec!["vi", "/f"]);
        assert_eq!(
            editor_command("code --wait", "/f"),
            vec!["code", "--wait", "/f"]
        );
        assert_eq!(
            editor_command("sed -i 's/a/b/'", "/f"),
            vec!["sh", "-c", "sed -i 's/a/b/' \"/f\""]
        );
        assert!(temp_path_with("json").ends_with(".json"));
    }
}
