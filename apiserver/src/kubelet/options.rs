//! Turning the API's `PodLogOptions`, `PodExecOptions`, `PodAttachOptions` and
//! `PodPortForwardOptions` query parameters into the kubelet's query, as upstream does:
//! booleans become `follow=true` for logs and `stdin=1` for streams, keys are sorted (Go's
//! `url.Values.Encode`), and options the kubelet does not take are dropped.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::errors::{ApiError, FieldError};
use crate::request::Query;

/// Go's `strconv.ParseBool`, as the API decodes boolean query parameters.
fn parse_bool(query: &Query, key: &str) -> Result<bool, ApiError> {
    match query.get(key) {
        None => Ok(false),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("" | "0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!(
            "strconv.ParseBool: parsing {other:?}: invalid syntax"
        ))),
    }
}

fn parse_int(query: &Query, key: &str) -> Result<Option<i64>, ApiError> {
    match query.non_empty(key) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!("strconv.ParseInt: parsing {v:?}: invalid syntax"))
        }),
    }
}

fn encode(pairs: &mut [(&'static str, String)]) -> String {
    // Stable sort: repeated keys (command) keep their order, as in url.Values.
    pairs.sort_by_key(|(k, _)| *k);
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter() {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// The kubelet query for `pods/log`, and whether `insecureSkipTLSVerifyBackend` was asked for.
/// `pod` names the pod in validation errors.
pub fn log_query(query: &Query, pod: &str) -> Result<(String, bool), ApiError> {
    let follow = parse_bool(query, "follow")?;
    let previous = parse_bool(query, "previous")?;
    let timestamps = parse_bool(query, "timestamps")?;
    let insecure = parse_bool(query, "insecureSkipTLSVerifyBackend")?;
    let since_seconds = parse_int(query, "sinceSeconds")?;
    let tail_lines = parse_int(query, "tailLines")?;
    let limit_bytes = parse_int(query, "limitBytes")?;
    let since_time = match query.non_empty("sinceTime") {
        None => None,
        Some(t) => Some(
            DateTime::parse_from_rfc3339(t)
                .map_err(|e| ApiError::bad_request(format!("parsing time {t:?} as RFC3339: {e}")))?
                .with_timezone(&Utc),
        ),
    };

    let mut errs = Vec::new();
    if let Some(t) = tail_lines.filter(|t| *t < 0) {
        errs.push(FieldError::invalid(
            "tailLines",
            t,
            "must be greater than or equal to 0",
        ));
    }
    if let Some(l) = limit_bytes.filter(|l| *l < 1) {
        errs.push(FieldError::invalid(
            "limitBytes",
            l,
            "must be greater than 0",
        ));
    }
    match (since_seconds, since_time) {
        (Some(_), Some(_)) => errs.push(FieldError::forbidden(
            "",
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        )),
        (Some(s), None) if s < 1 => errs.push(FieldError::invalid(
            "sinceSeconds",
            s,
            "must be greater than 0",
        )),
        _ => {}
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid("", "PodLogOptions", pod, &errs));
    }

    let mut pairs = Vec::new();
    if follow {
        pairs.push(("follow", "true".to_string()));
    }
    if previous {
        pairs.push(("previous", "true".to_string()));
    }
    if timestamps {
        pairs.push(("timestamps", "true".to_string()));
    }
    if let Some(s) = since_seconds {
        pairs.push(("sinceSeconds", s.to_string()));
    }
    if let Some(t) = since_time {
        pairs.push(("sinceTime", t.to_rfc3339_opts(SecondsFormat::Secs, true)));
    }
    if let Some(t) = tail_lines {
        pairs.push(("tailLines", t.to_string()));
    }
    if let Some(l) = limit_bytes {
        pairs.push(("limitBytes", l.to_string()));
    }
    Ok((encode(&mut pairs), insecure))
}

/// Which streaming subresource a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// `pods/exec` → kubelet `/exec/…`.
    Exec,
    /// `pods/attach` → kubelet `/attach/…`.
    Attach,
    /// `pods/portforward` → kubelet `/portForward/…`.
    PortForward,
}

/// The kubelet query for exec, attach or port-forward. The kubelet reads `stdin=1` etc.
pub fn stream_query(kind: StreamKind, query: &Query) -> Result<String, ApiError> {
    let mut pairs = Vec::new();
    match kind {
        StreamKind::Exec | StreamKind::Attach => {
            for key in ["stdin", "stdout", "stderr", "tty"] {
                if parse_bool(query, key)? {
                    pairs.push((key, "1".to_string()));
                }
            }
            if kind == StreamKind::Exec {
                for c in query.all("command") {
                    pairs.push(("command", c.clone()));
                }
            }
        }
        StreamKind::PortForward => {
            let mut ports = Vec::new();
            for p in query.all("ports") {
                // `ports` may repeat and, as kubectl sends it, hold a comma list.
                for one in p.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let n: u16 = one.parse().map_err(|_| {
                        ApiError::bad_request(format!(
                            "strconv.ParseInt: parsing {one:?}: invalid syntax"
                        ))
                    })?;
                    ports.push(n.to_string());
                }
            }
            if !ports.is_empty() {
                pairs.push(("port", ports.join(",")));
            }
        }
    }
    Ok(encode(&mut pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Query {
        Query::parse(Some(s))
    }

    #[test]
    fn log_options_are_translated_and_sorted() {
        let (out, insecure) = log_query(
            &q("container=app&timestamps=1&follow=true&tailLines=10&limitBytes=500&sinceSeconds=30&previous=false&insecureSkipTLSVerifyBackend=true"),
            "web",
        )
        .expect("valid");
        assert_eq!(
            out,
            "follow=true&limitBytes=500&sinceSeconds=30&tailLines=10&timestamps=true"
        );
        assert!(insecure);
        let (out, insecure) =
            log_query(&q("sinceTime=2026-01-02T03:04:05.678%2B02:00"), "web").expect("valid");
        assert_eq!(out, "sinceTime=2026-01-02T01%3A04%3A05Z");
        assert!(!insecure);
        assert_eq!(log_query(&q(""), "web").expect("valid").0, "");
    }

    #[test]
    fn bad_log_options_are_rejected() {
        let e = log_query(&q("tailLines=-1&limitBytes=0"), "web").expect_err("invalid");
        assert_eq!((e.code, e.reason), (422, "Invalid"));
        assert!(e.message.starts_with("PodLogOptions \"web\" is invalid"));
        assert!(e.message.contains("tailLines: Invalid value: -1"));
        assert!(e.message.contains("limitBytes: Invalid value: 0"));
        let e = log_query(&q("sinceSeconds=5&sinceTime=2026-01-02T03:04:05Z"), "web")
            .expect_err("both");
        assert!(e
            .message
            .contains("at most one of `sinceTime` or `sinceSeconds`"));
        assert_eq!(
            log_query(&q("follow=maybe"), "web").expect_err("bool").code,
            400
        );
        assert_eq!(
            log_query(&q("tailLines=x"), "web").expect_err("int").code,
            400
        );
        assert_eq!(
            log_query(&q("sinceTime=yesterday"), "web")
                .expect_err("time")
                .code,
            400
        );
    }

    #[test]
    fn exec_attach_and_portforward_queries() {
        let exec = stream_query(
            StreamKind::Exec,
            &q("command=sh&command=-c&command=echo+a%26b&stdout=true&stderr=true&stdin=false&tty=1&container=app"),
        )
        .expect("valid");
        assert_eq!(
            exec,
            "command=sh&command=-c&command=echo+a%26b&stderr=1&stdout=1&tty=1"
        );
        let attach =
            stream_query(StreamKind::Attach, &q("stdin=true&command=ignored")).expect("valid");
        assert_eq!(attach, "stdin=1");
        let pf =
            stream_query(StreamKind::PortForward, &q("ports=8080&ports=9090,53")).expect("valid");
        assert_eq!(pf, "port=8080%2C9090%2C53");
        assert_eq!(
            stream_query(StreamKind::PortForward, &q("ports=http"))
                .expect_err("not a port")
                .code,
            400
        );
    }
}
