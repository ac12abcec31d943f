//! File errors in Go's words (`open F: no such file or directory`), as upstream's kubectl
//! prints them from `os.ReadFile` and `os.Stat`, instead of Rust's ("No such file or
//! directory (os error 2)").

/// The text Go's `syscall.Errno` gives for the error: lower case, without the error number.
pub fn errno_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "is a directory".to_string(),
        _ => e.to_string(),
    }
}

/// `os.ReadFile(path)`'s error: `open F: …`, or `read F: is a directory`.
pub fn read_file_error(path: &str, e: &std::io::Error) -> String {
    let op = if e.kind() == std::io::ErrorKind::IsADirectory {
        "read"
    } else {
        "open"
    };
    format!("{op} {path}: {}", errno_text(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_errors_as_go_words_them() {
        let missing = std::fs::read("/nonexistent/x").unwrap_err();
        assert_eq!(
            read_file_error("/nonexistent/x", &missing),
            "open /nonexistent/x: no such file or directory"
        );
        let dir = std::fs::read("/").unwrap_err();
        assert_eq!(read_file_error("/", &dir), "read /: is a directory");
    }
}
