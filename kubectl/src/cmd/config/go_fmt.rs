//! Values printed the way Go's `fmt` prints them, where upstream's messages embed a Go value
//! (`%q` of a name, `%v` of the argument list or of a map).

use crate::error::KubectlError;

/// Go's `%q` of a string.
pub fn quote(s: &str) -> String {
    crate::printers::go_template::go_quote(s)
}

/// Go's `%v` of a `[]string`: `[a b c]`.
pub fn list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// Go's `%v` of a map whose values are pointers: keys sorted, each value an address. Go's
/// addresses differ from run to run; these are made up in the same shape.
pub fn pointer_map<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    let mut keys: Vec<&str> = keys.into_iter().collect();
    keys.sort_unstable();
    let items: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k}:{:#x}", 0xc000400000u64 + i as u64 * 0x100))
        .collect();
    format!("map[{}]", items.join(" "))
}

/// Go's `*PathError` text for a failed file operation: `stat ca.crt: no such file or directory`.
pub fn os_error(op: &str, path: &str, err: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let why = match err.kind() {
        ErrorKind::NotFound => "no such file or directory".to_string(),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::NotADirectory => "not a directory".to_string(),
        ErrorKind::IsADirectory => "is a directory".to_string(),
        _ => err.to_string(),
    };
    format!("{op} {path}: {why}")
}

/// What a Go panic leaves: its message on stderr and exit status 2. (Go also prints the
/// goroutine's stack, which has no equivalent here.)
pub fn panic(message: &str) -> KubectlError {
    eprintln!("panic: {message}\n\ngoroutine 1 [running]:");
    KubectlError::Exit(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_go() {
        assert_eq!(quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\x01\"");
        assert_eq!(list(&[]), "[]");
        assert_eq!(list(&["a".into(), "b".into()]), "[a b]");
        assert_eq!(pointer_map([]), "map[]");
        assert_eq!(
            pointer_map(["b", "a"]),
            "map[a:0xc000400000 b:0xc000400100]"
        );
    }
}
