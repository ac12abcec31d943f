//! `--raw URI` of `get` and `delete`: one request to a path of the server's choosing, with
//! the kubeconfig's credentials, its answer copied to stdout byte for byte (a watch as it
//! streams). Upstream checks the URI with Go's `url.ParseRequestURI` first; its refusals
//! are reproduced here word for word.

use std::io::Write;

use futures::StreamExt;
use http::{Method, Request};
use http_body_util::BodyExt;

use crate::client::{status_error, ApiClient};
use crate::error::{KubectlError, Result};

/// What client-go's REST client accepts.
const ACCEPT: &str = "application/json, */*";

/// Checks `uri` as Go's `url.ParseRequestURI` does; the error is upstream's
/// `--raw must be a valid URL path: parse "URI": REASON`.
pub fn check_uri(uri: &str) -> Result<()> {
    request_uri_problem(uri).map_or(Ok(()), |why| {
        Err(KubectlError::usage(format!(
            "--raw must be a valid URL path: parse {}: {why}",
            go_quote(uri)
        )))
    })
}

/// Why Go's `url.ParseRequestURI` refuses `uri`, or None when it takes it.
fn request_uri_problem(uri: &str) -> Option<String> {
    if uri.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Some("net/url: invalid control character in URL".into());
    }
    if uri.is_empty() {
        return Some("empty url".into());
    }
    if uri == "*" {
        return None;
    }
    let (scheme, rest) = match split_scheme(uri) {
        Ok(parts) => parts,
        Err(why) => return Some(why),
    };
    // The query is taken as it is; only the path is checked.
    let rest = rest.split_once('?').map_or(rest, |(path, _)| path);
    if !rest.starts_with('/') {
        // A rootless path after a scheme is an opaque URL, which Go accepts.
        return (scheme.is_empty()).then(|| "invalid URI for request".into());
    }
    let path = if !scheme.is_empty() && rest.starts_with("//") {
        // `scheme://authority/path`: the authority is not looked into further here.
        rest[2..].find('/').map_or("", |i| &rest[2 + i..])
    } else {
        rest
    };
    bad_escape(path).map(|e| format!("invalid URL escape {}", go_quote(e)))
}

/// Go's `getScheme`: a leading `letter (letter|digit|+|-|.)* :` is a scheme.
fn split_scheme(uri: &str) -> std::result::Result<(&str, &str), String> {
    for (i, c) in uri.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err("missing protocol scheme".into()),
            ':' => return Ok((&uri[..i], &uri[i + 1..])),
            _ => return Ok(("", uri)),
        }
    }
    Ok(("", uri))
}

/// The first `%` not followed by two hex digits, as Go quotes it (at most three bytes).
fn bad_escape(path: &str) -> Option<&str> {
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.len() > i + 2
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit();
            if !ok {
                let end = (i + 3).min(bytes.len());
                // Cut on a character boundary so that the text stays valid.
                let end = (end..=bytes.len())
                    .find(|e| path.is_char_boundary(*e))
                    .unwrap_or(bytes.len());
                return Some(&path[i..end]);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    None
}

/// A string as Go's `%q` prints it.
fn go_quote(s: &str) -> String {
    crate::printers::go_template::go_quote(s)
}

/// GETs `uri` and copies the answer to stdout as it arrives.
pub async fn get(client: &ApiClient, uri: &str) -> Result<()> {
    let mut chunks = Box::pin(client.stream(uri, ACCEPT).await?);
    let mut stdout = std::io::stdout().lock();
    while let Some(chunk) = chunks.next().await {
        // A closed pipe (`| head`) ends the copy quietly, as Go's io.Copy error is dropped
        // by nobody reading it.
        if stdout
            .write_all(&chunk?)
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
    }
    Ok(())
}

/// DELETEs `uri` with `body` (a file's bytes, or none) and copies the answer to stdout.
pub async fn delete(client: &ApiClient, uri: &str, body: Vec<u8>) -> Result<()> {
    let req = Request::builder()
        .method(Method::DELETE)
        .uri(uri)
        .header(http::header::ACCEPT, ACCEPT)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(kube::client::Body::from(body))
        .map_err(|e| KubectlError::usage(e.to_string()))?;
    let res = client.forward(req).await?;
    crate::warnings::report(res.headers());
    let status = res.status();
    let bytes = res
        .into_body()
        .collect()
        .await
        .map_err(|e| KubectlError::Connection(format!("error reading response: {e}")))?
        .to_bytes();
    if !status.is_success() {
        return Err(status_error(status.as_u16(), &bytes));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&bytes).and_then(|()| stdout.flush());
    Ok(())
}

/// The body `delete --raw` sends: the one file `-f` names (`-` for stdin), else nothing.
pub fn delete_body(filename: Option<&str>) -> Result<Vec<u8>> {
    use std::io::Read;
    match filename {
        None => Ok(Vec::new()),
        Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| KubectlError::usage(e.to_string()))?;
            Ok(buf)
        }
        Some(path) => std::fs::read(path).map_err(|e| {
            KubectlError::usage(match e.kind() {
                std::io::ErrorKind::NotFound => format!("open {path}: no such file or directory"),
                std::io::ErrorKind::PermissionDenied => format!("open {path}: permission denied"),
                _ => format!("open {path}: {e}"),
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(uri: &str) -> Option<String> {
        request_uri_problem(uri)
    }

    #[test]
    fn absolute_paths_and_urls_are_request_uris() {
        assert_eq!(problem("/api"), None);
        assert_eq!(problem("/api/v1/pods?watch=true&x=%zz"), None);
        assert_eq!(problem("/api/v1/namespaces/a%20b"), None);
        assert_eq!(problem("https://host:6443/api"), None);
        assert_eq!(problem("mailto:someone"), None);
        assert_eq!(problem("*"), None);
    }

    #[test]
    fn refusals_are_worded_as_go_words_them() {
        assert_eq!(problem("api").as_deref(), Some("invalid URI for request"));
        assert_eq!(problem("1/api").as_deref(), Some("invalid URI for request"));
        assert_eq!(problem(":x").as_deref(), Some("missing protocol scheme"));
        assert_eq!(
            problem("/a%zzb").as_deref(),
            Some("invalid URL escape \"%zz\"")
        );
        assert_eq!(
            problem("/a%4").as_deref(),
            Some("invalid URL escape \"%4\"")
        );
        assert_eq!(
            problem("/a\u{1}").as_deref(),
            Some("net/url: invalid control character in URL")
        );
    }

    #[test]
    fn the_error_quotes_the_uri_as_go_does() {
        assert_eq!(
            check_uri("%zz").unwrap_err().to_string(),
            "error: --raw must be a valid URL path: parse \"%zz\": invalid URI for request"
        );
        assert_eq!(
            check_uri("/\u{1}").unwrap_err().to_string(),
            "error: --raw must be a valid URL path: parse \"/\\x01\": net/url: invalid control character in URL"
        );
        assert!(check_uri("/api").is_ok());
    }
}
