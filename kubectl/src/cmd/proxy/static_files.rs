//! `kubectl proxy --www DIR`: files of a local directory served under `--www-prefix`, as Go's
//! `http.FileServer` serves them (index.html for a directory, else a listing; a directory
//! without its trailing slash redirected to it).

use std::path::{Component, Path, PathBuf};

use http::StatusCode;

/// What a request for a static path gets.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// 200 with this content type and body.
    File {
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// 301 to this location (a directory asked for without its trailing slash).
    Redirect(String),
    /// An error status with Go's text.
    Error(StatusCode, &'static str),
}

/// The answer for `rel`, the request path below the prefix (percent-decoded), from `root`.
pub fn answer(root: &Path, rel: &str) -> Answer {
    let Some(path) = inside(root, rel) else {
        return Answer::Error(StatusCode::BAD_REQUEST, "invalid URL path\n");
    };
    let Ok(meta) = std::fs::metadata(&path) else {
        return Answer::Error(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    if meta.is_dir() {
        if !rel.is_empty() && !rel.ends_with('/') {
            let last = rel.rsplit('/').next().unwrap_or(rel);
            return Answer::Redirect(format!("{last}/"));
        }
        let index = path.join("index.html");
        if let Ok(body) = std::fs::read(&index) {
            return Answer::File {
                content_type: "text/html; charset=utf-8",
                body,
            };
        }
        return match listing(&path) {
            Some(body) => Answer::File {
                content_type: "text/html; charset=utf-8",
                body,
            },
            None => Answer::Error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error reading directory\n",
            ),
        };
    }
    match std::fs::read(&path) {
        Ok(body) => Answer::File {
            content_type: content_type(&path).unwrap_or_else(|| sniff(&body)),
            body,
        },
        Err(_) => Answer::Error(StatusCode::FORBIDDEN, "403 Forbidden\n"),
    }
}

/// `root` joined with `rel`, or None when `rel` would leave it (`..`).
fn inside(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for c in Path::new(rel.trim_start_matches('/')).components() {
        match c {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(path)
}

/// A directory's entries as Go lists them: sorted, directories with a trailing slash.
fn listing(dir: &Path) -> Option<Vec<u8>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                format!("{name}/")
            } else {
                name
            }
        })
        .collect();
    names.sort();
    let mut html = String::from(
        "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n",
    );
    for name in names {
        let href = percent_encoding::utf8_percent_encode(&name, HREF).to_string();
        html.push_str(&format!("<a href=\"{href}\">{}</a>\n", escape_html(&name)));
    }
    html.push_str("</pre>\n");
    Some(html.into_bytes())
}

/// What a listing's links escape (a path segment's reserved characters).
const HREF: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'?')
    .add(b'<')
    .add(b'>');

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// The content type Go's own table gives an extension.
fn content_type(path: &Path) -> Option<&'static str> {
    Some(
        match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
            "html" | "htm" => "text/html; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            "js" | "mjs" => "text/javascript; charset=utf-8",
            "json" => "application/json",
            "txt" => "text/plain; charset=utf-8",
            "svg" => "image/svg+xml",
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "wasm" => "application/wasm",
            "xml" => "text/xml; charset=utf-8",
            "pdf" => "application/pdf",
            "webp" => "image/webp",
            _ => return None,
        },
    )
}

/// The type of content whose extension says nothing, as Go's sniffing decides the common
/// cases: HTML by its opening tag, text without binary bytes, anything else bytes.
fn sniff(body: &[u8]) -> &'static str {
    let head = &body[..body.len().min(512)];
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let lower = head[start..].to_ascii_lowercase();
    if [
        &b"<!doctype html"[..],
        b"<html",
        b"<head",
        b"<body",
        b"<p",
        b"<h1",
        b"<div",
    ]
    .iter()
    .any(|tag| lower.starts_with(tag))
    {
        return "text/html; charset=utf-8";
    }
    let binary = head
        .iter()
        .any(|&b| b < 0x09 || (0x0e..0x1b).contains(&b) || b == 0x0b || (0x1c..0x20).contains(&b));
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_directories_and_escapes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.js"), "x").unwrap();
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("docs/index.html"), "<p>hi</p>").unwrap();
        assert_eq!(
            answer(dir.path(), "app.js"),
            Answer::File {
                content_type: "text/javascript; charset=utf-8",
                body: b"x".to_vec()
            }
        );
        assert_eq!(answer(dir.path(), "docs"), Answer::Redirect("docs/".into()));
        assert_eq!(
            answer(dir.path(), "docs/"),
            Answer::File {
                content_type: "text/html; charset=utf-8",
                body: b"<p>hi</p>".to_vec()
            }
        );
        let Answer::File { body, .. } = answer(dir.path(), "") else {
            panic!("no listing")
        };
        let body = String::from_utf8(body).unwrap();
        assert!(
            body.contains("<a href=\"app.js\">app.js</a>\n<a href=\"docs/\">docs/</a>"),
            "{body}"
        );
        assert_eq!(
            answer(dir.path(), "../etc/passwd"),
            Answer::Error(StatusCode::BAD_REQUEST, "invalid URL path\n")
        );
        assert_eq!(
            answer(dir.path(), "nope"),
            Answer::Error(StatusCode::NOT_FOUND, "404 page not found\n")
        );
    }
}
