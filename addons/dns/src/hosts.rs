//! Names from a hosts file (`--hosts-file`), answered as CoreDNS's `hosts` plugin answers
//! them: A and AAAA for the names a line lists, PTR for its address, the file re-read when it
//! changes. A name the file lists but without an address of the asked type is NODATA; a name
//! it does not list goes on to the forwarder (the plugin's `fallthrough`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// How often the file's modification time is checked (CoreDNS's default `reload 5s`).
pub const RELOAD_PERIOD: Duration = Duration::from_secs(5);

/// The parsed contents of a hosts file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct HostsTable {
    /// Addresses by (lower-case, fully qualified) name, in file order.
    addresses: HashMap<Name, Vec<IpAddr>>,
    /// Names by address, in file order (the first is the canonical one).
    names: HashMap<IpAddr, Vec<Name>>,
}

impl HostsTable {
    /// Parse hosts-file text: `address name [alias…]` per line, `#` starts a comment, lines
    /// that do not parse are skipped (as resolvers treat /etc/hosts).
    pub fn parse(text: &str) -> HostsTable {
        let mut table = HostsTable::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default();
            let mut words = line.split_whitespace();
            let Some(Ok(ip)) = words.next().map(str::parse::<IpAddr>) else {
                continue;
            };
            for word in words {
                let Ok(mut name) = Name::from_ascii(word) else {
                    continue;
                };
                name.set_fqdn(true);
                let name = name.to_lowercase();
                let addresses = table.addresses.entry(name.clone()).or_default();
                if !addresses.contains(&ip) {
                    addresses.push(ip);
                }
                let names = table.names.entry(ip).or_default();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        table
    }

    /// The answer to `name IN qtype`: `None` when the file knows nothing of the name (ask
    /// the next resolver), else its records of that type (empty: NODATA).
    pub fn lookup(&self, name: &Name, qtype: RecordType, ttl: u32) -> Option<Vec<Record>> {
        let mut key = name.to_lowercase();
        key.set_fqdn(true);
        if qtype == RecordType::PTR {
            let ip = reverse_to_ip(&key)?;
            let names = self.names.get(&ip)?;
            return Some(
                names
                    .iter()
                    .map(|n| Record::from_rdata(name.clone(), ttl, RData::PTR(PTR(n.clone()))))
                    .collect(),
            );
        }
        let addresses = self.addresses.get(&key)?;
        Some(
            addresses
                .iter()
                .filter_map(|ip| match (ip, qtype) {
                    (IpAddr::V4(v4), RecordType::A | RecordType::ANY) => Some(RData::A(A(*v4))),
                    (IpAddr::V6(v6), RecordType::AAAA | RecordType::ANY) => {
                        Some(RData::AAAA(AAAA(*v6)))
                    }
                    _ => None,
                })
                .map(|rdata| Record::from_rdata(name.clone(), ttl, rdata))
                .collect(),
        )
    }
}

/// The address an `in-addr.arpa.` / `ip6.arpa.` name stands for.
fn reverse_to_ip(name: &Name) -> Option<IpAddr> {
    let labels: Vec<String> = name
        .iter()
        .map(|l| String::from_utf8_lossy(l).to_string())
        .collect();
    match labels.as_slice() {
        [d, c, b, a, in_addr, arpa] if in_addr == "in-addr" && arpa == "arpa" => {
            format!("{a}.{b}.{c}.{d}").parse().ok()
        }
        [nibbles @ .., ip6, arpa] if ip6 == "ip6" && arpa == "arpa" && nibbles.len() == 32 => {
            let hex: String = nibbles.iter().rev().map(String::as_str).collect();
            let groups: Vec<&str> = (0..8).map(|i| &hex[i * 4..i * 4 + 4]).collect();
            groups.join(":").parse().ok()
        }
        _ => None,
    }
}

/// A hosts file and its last parsed contents.
#[derive(Debug)]
pub struct HostsFile {
    path: PathBuf,
    ttl: u32,
    state: RwLock<(Option<SystemTime>, HostsTable)>,
}

impl HostsFile {
    /// Read `path` now (a missing or unreadable file is an empty table until it appears);
    /// records carry time-to-live `ttl`.
    pub fn open(path: &Path, ttl: u32) -> HostsFile {
        let file = HostsFile {
            path: path.to_path_buf(),
            ttl,
            state: RwLock::new((None, HostsTable::default())),
        };
        file.reload_if_changed();
        file
    }

    /// Re-read the file when its modification time changed; returns whether it did.
    pub fn reload_if_changed(&self) -> bool {
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        let known = self.state.read().map(|s| s.0).unwrap_or(None);
        if modified == known && modified.is_some() {
            return false;
        }
        let table = match std::fs::read_to_string(&self.path) {
            Ok(text) => HostsTable::parse(&text),
            Err(e) => {
                if known.is_some() || modified.is_some() {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot read the hosts file");
                }
                HostsTable::default()
            }
        };
        if let Ok(mut state) = self.state.write() {
            *state = (modified, table);
        }
        true
    }

    /// See [`HostsTable::lookup`].
    pub fn lookup(&self, name: &Name, qtype: RecordType) -> Option<Vec<Record>> {
        self.state.read().ok()?.1.lookup(name, qtype, self.ttl)
    }

    /// Check for changes every [`RELOAD_PERIOD`], forever.
    pub async fn watch(self: std::sync::Arc<Self>) {
        let mut tick = tokio::time::interval(RELOAD_PERIOD);
        loop {
            tick.tick().await;
            if self.reload_if_changed() {
                tracing::info!(path = %self.path.display(), "hosts file (re)loaded");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# comment\n127.0.0.1 localhost\n192.0.2.10 db.example.test db # alias\n\
                        2001:db8::10 db.example.test\nnot-an-ip nowhere\n192.0.2.11 DB.example.test\n";

    fn name(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn data(records: &[Record]) -> Vec<String> {
        records.iter().map(|r| r.data().to_string()).collect()
    }

    #[test]
    fn addresses_by_type_case_insensitively() {
        let t = HostsTable::parse(TEXT);
        let a = t
            .lookup(&name("Db.Example.Test."), RecordType::A, 30)
            .unwrap();
        assert_eq!(data(&a), vec!["192.0.2.10", "192.0.2.11"]);
        assert_eq!(
            a[0].name(),
            &name("Db.Example.Test."),
            "echoes the question's name"
        );
        let aaaa = t
            .lookup(&name("db.example.test."), RecordType::AAAA, 30)
            .unwrap();
        assert_eq!(data(&aaaa), vec!["2001:db8::10"]);
        // Listed, but no address of that type: NODATA, not a forward.
        assert_eq!(t.lookup(&name("db."), RecordType::AAAA, 30), Some(vec![]));
        assert_eq!(
            t.lookup(&name("db.example.test."), RecordType::MX, 30),
            Some(vec![])
        );
        assert_eq!(t.lookup(&name("nowhere."), RecordType::A, 30), None);
        assert_eq!(t.lookup(&name("example.test."), RecordType::A, 30), None);
    }

    #[test]
    fn reverse_names() {
        let t = HostsTable::parse(TEXT);
        let ptr = t
            .lookup(&name("10.2.0.192.in-addr.arpa."), RecordType::PTR, 30)
            .unwrap();
        assert_eq!(data(&ptr), vec!["db.example.test.", "db."]);
        let v6 = "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.";
        let ptr = t.lookup(&name(v6), RecordType::PTR, 30).unwrap();
        assert_eq!(data(&ptr), vec!["db.example.test."]);
        assert_eq!(
            t.lookup(&name("9.2.0.192.in-addr.arpa."), RecordType::PTR, 30),
            None
        );
    }

    #[test]
    fn the_file_is_reread_when_it_changes() {
        let dir = std::env::temp_dir().join(format!("rudder-dns-hosts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hosts");
        let file = HostsFile::open(&path, 30);
        assert_eq!(file.lookup(&name("a.test."), RecordType::A,), None);
        std::fs::write(&path, "192.0.2.1 a.test\n").unwrap();
        assert!(file.reload_if_changed());
        assert_eq!(
            data(&file.lookup(&name("a.test."), RecordType::A).unwrap()),
            vec!["192.0.2.1"]
        );
        assert!(!file.reload_if_changed(), "unchanged: not re-read");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
