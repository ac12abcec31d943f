//! Reading a kubelet's `/metrics/resource` (Prometheus text format) into samples, and
//! fetching it. The families are upstream's stable resource metrics:
//! `node_cpu_usage_seconds_total`, `node_memory_working_set_bytes`,
//! `container_cpu_usage_seconds_total`, `container_memory_working_set_bytes`,
//! `container_start_time_seconds`.

use std::collections::BTreeMap;

/// One cumulative CPU reading and one memory reading, with the times they were taken.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// Cumulative CPU time, core-seconds.
    pub cpu_seconds: Option<f64>,
    /// When the CPU counter was read (ms since the epoch).
    pub cpu_time_ms: Option<i64>,
    /// Memory working set, bytes.
    pub memory_bytes: Option<f64>,
    /// Container start time (seconds since the epoch), to detect restarts.
    pub start_time: Option<f64>,
}

/// A container's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContainerKey {
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
}

/// Everything one scrape of one node gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeScrape {
    /// The node itself.
    pub node: Sample,
    /// Each container on it.
    pub containers: BTreeMap<ContainerKey, Sample>,
}

/// One parsed sample line: metric name, labels, value, optional timestamp (ms).
type Line<'a> = (&'a str, BTreeMap<String, String>, f64, Option<i64>);

/// Parse one line of the text format; `None` for comments, blanks and malformed lines.
fn parse_line(line: &str) -> Option<Line<'_>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, rest, labels) = match line.find('{') {
        Some(open) => {
            let close = line[open..].rfind('}')? + open;
            (
                &line[..open],
                &line[close + 1..],
                parse_labels(&line[open + 1..close]),
            )
        }
        None => {
            let sp = line.find(' ')?;
            (&line[..sp], &line[sp..], BTreeMap::new())
        }
    };
    let mut fields = rest.split_whitespace();
    let value: f64 = fields.next()?.parse().ok()?;
    let ts = fields.next().and_then(|t| t.parse().ok());
    Some((name, labels, value, ts))
}

/// `a="x",b="y"` with `\"`, `\\` and `\n` escapes.
fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        let key: String = chars
            .by_ref()
            .skip_while(|c| *c == ',' || c.is_whitespace())
            .take_while(|c| *c != '=')
            .collect();
        if key.is_empty() {
            return out;
        }
        if chars.next() != Some('"') {
            return out;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(o) => value.push(o),
                    None => break,
                },
                '"' => break,
                o => value.push(o),
            }
        }
        out.insert(key.trim().to_string(), value);
    }
}

/// Parse a `/metrics/resource` body.
pub fn parse(text: &str) -> NodeScrape {
    let mut out = NodeScrape::default();
    for line in text.lines() {
        let Some((name, labels, value, ts)) = parse_line(line) else {
            continue;
        };
        let container = || {
            Some(ContainerKey {
                namespace: labels.get("namespace")?.clone(),
                pod: labels.get("pod")?.clone(),
                container: labels.get("container")?.clone(),
            })
        };
        match name {
            "node_cpu_usage_seconds_total" => {
                out.node.cpu_seconds = Some(value);
                out.node.cpu_time_ms = ts;
            }
            "node_memory_working_set_bytes" => out.node.memory_bytes = Some(value),
            "container_cpu_usage_seconds_total" => {
                if let Some(k) = container() {
                    let s = out.containers.entry(k).or_default();
                    s.cpu_seconds = Some(value);
                    s.cpu_time_ms = ts;
                }
            }
            "container_memory_working_set_bytes" => {
                if let Some(k) = container() {
                    out.containers.entry(k).or_default().memory_bytes = Some(value);
                }
            }
            "container_start_time_seconds" => {
                if let Some(k) = container() {
                    out.containers.entry(k).or_default().start_time = Some(value);
                }
            }
            _ => {}
        }
    }
    out
}

/// Why a node could not be scraped.
#[derive(Debug, thiserror::Error)]
#[error("scraping node {node}: {source}")]
pub struct ScrapeError {
    /// The node.
    pub node: String,
    /// What the API said.
    #[source]
    pub source: kube::Error,
}

/// Fetch a node's `/metrics/resource` through the apiserver's node proxy (the apiserver
/// dials the kubelet with its kubelet client certificate, which our kubelets require).
pub async fn fetch_via_apiserver(
    client: &kube::Client,
    node: &str,
) -> Result<NodeScrape, ScrapeError> {
    let path = format!("/api/v1/nodes/{node}/proxy/metrics/resource");
    let req = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| ScrapeError {
            node: node.to_string(),
            source: kube::Error::HttpError(e),
        })?;
    let text = client
        .request_text(req)
        .await
        .map_err(|source| ScrapeError {
            node: node.to_string(),
            source,
        })?;
    Ok(parse(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 1234.5 1700000000000
node_memory_working_set_bytes 1.048576e+09 1700000000000
container_cpu_usage_seconds_total{container="busy",namespace="default",pod="burn"} 10.25 1700000000123
container_memory_working_set_bytes{container="busy",namespace="default",pod="burn"} 4096 1700000000123
container_start_time_seconds{container="busy",namespace="default",pod="burn"} 1.6999e+09
pod_cpu_usage_seconds_total{namespace="default",pod="burn"} 10.3 1700000000123
scrape_error 0
"#;

    #[test]
    fn parses_node_and_container_families() {
        let s = parse(TEXT);
        assert_eq!(s.node.cpu_seconds, Some(1234.5));
        assert_eq!(s.node.cpu_time_ms, Some(1_700_000_000_000));
        assert_eq!(s.node.memory_bytes, Some(1_048_576_000.0));
        let k = ContainerKey {
            namespace: "default".into(),
            pod: "burn".into(),
            container: "busy".into(),
        };
        let c = s.containers[&k];
        assert_eq!(c.cpu_seconds, Some(10.25));
        assert_eq!(c.cpu_time_ms, Some(1_700_000_000_123));
        assert_eq!(c.memory_bytes, Some(4096.0));
        assert_eq!(c.start_time, Some(1.6999e9));
        assert_eq!(s.containers.len(), 1);
    }

    #[test]
    fn labels_with_escapes_and_commas() {
        let l = parse_labels(r#"a="x,y",b="q\"uote",c="back\\slash""#);
        assert_eq!(l["a"], "x,y");
        assert_eq!(l["b"], "q\"uote");
        assert_eq!(l["c"], "back\\slash");
    }
}
