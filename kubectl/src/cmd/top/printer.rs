//! Upstream's `TopCmdPrinter`: the node and pod tables of `kubectl top`. Every value ends
//! with a tab, so each line (the last column too) is padded, as upstream's are.

use std::collections::BTreeMap;

use super::quantity::Quantity;
use crate::printers::tabwriter::TabWriter;

/// CPU and memory of one node, pod or container.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// CPU in cores.
    pub cpu: Quantity,
    /// Memory in bytes.
    pub memory: Quantity,
}

impl Usage {
    /// Reads `{"cpu": "…", "memory": "…"}`; absent or malformed values count as zero.
    pub fn from_json(v: &serde_json::Value) -> Self {
        let get = |k: &str| v[k].as_str().and_then(Quantity::parse).unwrap_or_default();
        Usage {
            cpu: get("cpu"),
            memory: get("memory"),
        }
    }

    fn add(self, o: Usage) -> Usage {
        Usage {
            cpu: self.cpu.add(o.cpu),
            memory: self.memory.add(o.memory),
        }
    }

    /// The cells `123m` and `45Mi`.
    fn cells(self) -> [String; 2] {
        [
            format!("{}m", self.cpu.milli_value()),
            format!("{}Mi", self.memory.value() / (1024 * 1024)),
        ]
    }
}

/// `--sort-by`: cpu or memory descending, otherwise by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Namespace, then name.
    Name,
    /// Highest CPU first.
    Cpu,
    /// Highest memory first.
    Memory,
}

impl SortBy {
    /// Parses the flag, with upstream's error.
    pub fn parse(v: Option<&str>) -> Result<Self, String> {
        match v.unwrap_or("") {
            "" => Ok(SortBy::Name),
            "cpu" => Ok(SortBy::Cpu),
            "memory" => Ok(SortBy::Memory),
            _ => Err("--sort-by accepts only cpu or memory".to_string()),
        }
    }

    fn order(self, a: Usage, b: Usage) -> Option<std::cmp::Ordering> {
        match self {
            SortBy::Name => None,
            SortBy::Cpu => Some(b.cpu.milli_value().cmp(&a.cpu.milli_value())),
            SortBy::Memory => Some(b.memory.value().cmp(&a.memory.value())),
        }
    }
}

/// One node's usage.
#[derive(Debug, Clone)]
pub struct NodeMetrics {
    /// Node name.
    pub name: String,
    /// Usage.
    pub usage: Usage,
}

/// One pod's usage, per container.
#[derive(Debug, Clone)]
pub struct PodMetrics {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub name: String,
    /// (container name, usage)
    pub containers: Vec<(String, Usage)>,
}

impl PodMetrics {
    fn total(&self) -> Usage {
        self.containers
            .iter()
            .fold(Usage::default(), |acc, (_, u)| acc.add(*u))
    }
}

const NODE_COLUMNS: [&str; 5] = ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"];
const POD_COLUMNS: [&str; 3] = ["NAME", "CPU(cores)", "MEMORY(bytes)"];

fn line(mut cells: Vec<String>) -> Vec<String> {
    // The empty text after the last tab: every real cell gets padded.
    cells.push(String::new());
    cells
}

fn percent(used: Quantity, available: Quantity) -> String {
    let fraction = used.milli_value() as f64 / available.milli_value() as f64 * 100.0;
    // Go's int64(float) truncates toward zero.
    format!("{}%", fraction as i64)
}

/// The node table. `available` is allocatable (or capacity) per node name; nodes that have
/// no metrics print `<unknown>` after the others.
pub fn print_nodes(
    mut metrics: Vec<NodeMetrics>,
    mut available: BTreeMap<String, Usage>,
    no_headers: bool,
    sort_by: SortBy,
) -> String {
    if metrics.is_empty() {
        return String::new();
    }
    metrics.sort_by(|a, b| {
        sort_by
            .order(a.usage, b.usage)
            .unwrap_or_else(|| a.name.cmp(&b.name))
    });
    let mut tw = TabWriter::new();
    if !no_headers {
        tw.row(line(NODE_COLUMNS.iter().map(|s| s.to_string()).collect()));
    }
    for m in &metrics {
        let [cpu, mem] = m.usage.cells();
        let mut cells = vec![m.name.clone(), cpu];
        let avail = available.remove(&m.name);
        if let Some(a) = avail {
            cells.push(percent(m.usage.cpu, a.cpu));
        }
        cells.push(mem);
        if let Some(a) = avail {
            cells.push(percent(m.usage.memory, a.memory));
        }
        tw.row(line(cells));
    }
    for name in available.keys() {
        let mut cells = vec![name.clone()];
        cells.extend(std::iter::repeat_n("<unknown>".to_string(), 4));
        tw.row(line(cells));
    }
    tw.flush()
}

/// Options of the pod table.
#[derive(Debug, Clone, Copy)]
pub struct PodTable {
    /// `--containers`: one line per container, with a POD column.
    pub containers: bool,
    /// `-A`: a NAMESPACE column.
    pub with_namespace: bool,
    /// `--no-headers`
    pub no_headers: bool,
    /// `--sort-by`
    pub sort_by: SortBy,
    /// `--sum`: a total line under the table.
    pub sum: bool,
}

/// The pod table.
pub fn print_pods(mut metrics: Vec<PodMetrics>, o: PodTable) -> String {
    if metrics.is_empty() {
        return String::new();
    }
    let mut tw = TabWriter::new();
    let mut column_width = POD_COLUMNS.len();
    if !o.no_headers {
        let mut header = Vec::new();
        if o.with_namespace {
            header.push("NAMESPACE".to_string());
            column_width += 1;
        }
        if o.containers {
            header.push("POD".to_string());
            column_width += 1;
        }
        header.extend(POD_COLUMNS.iter().map(|s| s.to_string()));
        tw.row(line(header));
    }
    metrics.sort_by(|a, b| {
        o.sort_by.order(a.total(), b.total()).unwrap_or_else(|| {
            if o.with_namespace && a.namespace != b.namespace {
                a.namespace.cmp(&b.namespace)
            } else {
                a.name.cmp(&b.name)
            }
        })
    });
    for m in &mut metrics {
        if o.containers {
            let sort_by = o.sort_by;
            m.containers
                .sort_by(|a, b| sort_by.order(a.1, b.1).unwrap_or_else(|| a.0.cmp(&b.0)));
            for (c, usage) in &m.containers {
                let mut cells = Vec::new();
                if o.with_namespace {
                    cells.push(m.namespace.clone());
                }
                cells.push(m.name.clone());
                cells.push(c.clone());
                cells.extend(usage.cells());
                tw.row(line(cells));
            }
        } else {
            let mut cells = Vec::new();
            if o.with_namespace {
                cells.push(m.namespace.clone());
            }
            cells.push(m.name.clone());
            cells.extend(m.total().cells());
            tw.row(line(cells));
        }
    }
    if o.sum {
        // Upstream counts the extra columns only when it printed headers.
        let total = metrics
            .iter()
            .fold(Usage::default(), |acc, m| acc.add(m.total()));
        let mut rule = vec![String::new(); column_width.saturating_sub(2)];
        rule.extend(["________".to_string(), "________".to_string()]);
        tw.row(line(rule));
        let mut cells = vec![String::new(); column_width.saturating_sub(3)];
        cells.push(String::new());
        cells.extend(total.cells());
        tw.row(line(cells));
    }
    tw.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(cpu: &str, mem: &str) -> Usage {
        Usage {
            cpu: Quantity::parse(cpu).unwrap(),
            memory: Quantity::parse(mem).unwrap(),
        }
    }

    #[test]
    fn node_table_uses_available_for_percentages() {
        let metrics = vec![
            NodeMetrics {
                name: "b".into(),
                usage: u("250000000n", "512Mi"),
            },
            NodeMetrics {
                name: "a".into(),
                usage: u("1500m", "100Mi"),
            },
        ];
        let mut avail = BTreeMap::new();
        avail.insert("a".to_string(), u("2", "1Gi"));
        avail.insert("b".to_string(), u("2", "1Gi"));
        avail.insert("c".to_string(), u("2", "1Gi"));
        let s = print_nodes(metrics, avail, false, SortBy::Name);
        let lines: Vec<Vec<&str>> = s.lines().map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(
            lines[0],
            ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
        );
        assert_eq!(lines[1], ["a", "1500m", "75%", "100Mi", "9%"]);
        assert_eq!(lines[2], ["b", "250m", "12%", "512Mi", "50%"]);
        assert_eq!(
            lines[3],
            ["c", "<unknown>", "<unknown>", "<unknown>", "<unknown>"]
        );
        // Every line ends in padding, as upstream's trailing tab makes it.
        assert!(s.lines().all(|l| l.ends_with("   ")));
    }

    #[test]
    fn pods_sort_by_cpu_and_sum() {
        let pods = vec![
            PodMetrics {
                namespace: "ns".into(),
                name: "small".into(),
                containers: vec![("c".into(), u("1m", "1Mi"))],
            },
            PodMetrics {
                namespace: "ns".into(),
                name: "big".into(),
                containers: vec![("x".into(), u("5m", "2Mi")), ("a".into(), u("5m", "2Mi"))],
            },
        ];
        let o = PodTable {
            containers: false,
            with_namespace: false,
            no_headers: false,
            sort_by: SortBy::Cpu,
            sum: true,
        };
        let s = print_pods(pods.clone(), o);
        let lines: Vec<&str> = s.lines().map(str::trim_end).collect();
        assert_eq!(lines[0], "NAME    CPU(cores)   MEMORY(bytes)");
        assert_eq!(lines[1], "big     10m          4Mi");
        assert_eq!(lines[2], "small   1m           1Mi");
        assert_eq!(lines[3], "        ________     ________");
        assert_eq!(lines[4], "        11m          5Mi");
        let s = print_pods(
            pods,
            PodTable {
                containers: true,
                with_namespace: true,
                sort_by: SortBy::Name,
                sum: false,
                ..o
            },
        );
        let lines: Vec<&str> = s.lines().map(str::trim_end).collect();
        assert_eq!(
            lines[0],
            "NAMESPACE   POD     NAME   CPU(cores)   MEMORY(bytes)"
        );
        assert_eq!(lines[1], "ns          big     a      5m           2Mi");
        assert_eq!(lines[2], "ns          big     x      5m           2Mi");
        assert_eq!(lines[3], "ns          small   c      1m           1Mi");
    }

    #[test]
    fn sort_by_rejects_other_fields() {
        assert_eq!(
            SortBy::parse(Some("name")).unwrap_err(),
            "--sort-by accepts only cpu or memory"
        );
        assert_eq!(SortBy::parse(None).unwrap(), SortBy::Name);
    }
}
