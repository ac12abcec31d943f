//! The desired content of our nftables table as data ([`Ruleset`]), and the `nft -f`
//! transactions that get the kernel there: a replacement of the whole table, a full rewrite
//! of every chain and map, or a partial sync that touches only what changed since the last
//! applied ruleset. All of it is text generation, testable without root.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// One chain: its hook line for base chains, and its rules in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chain {
    /// `type nat hook output priority -100; policy accept;` for a base chain.
    pub hook: Option<String>,
    /// Rule bodies, without `add rule <table> <chain>`.
    pub rules: Vec<String>,
}

/// A named set or map of the table, with its declaration and its elements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Collection {
    /// The declaration body, e.g. `type ipv4_addr . inet_proto . inet_service : verdict ;`.
    pub declaration: String,
    /// Elements (for maps `key : value`), keyed by the element's key so that a changed value
    /// is seen as a change of that key.
    pub elements: BTreeMap<String, String>,
    /// Whether the kernel adds elements itself (session affinity sets): a rewrite must not
    /// flush it, or every client loses its affinity.
    pub dynamic: bool,
}

impl Collection {
    fn element_text(key: &str, value: &str) -> String {
        if value.is_empty() {
            key.to_string()
        } else {
            format!("{key} : {value}")
        }
    }
}

/// The whole table as data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ruleset {
    /// The table's family and name, e.g. `ip kube-proxy`.
    pub table: String,
    /// Sets and maps by name.
    pub collections: BTreeMap<String, Collection>,
    /// Chains by name.
    pub chains: BTreeMap<String, Chain>,
}

/// How a sync gets from what the kernel has to the desired ruleset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncKind {
    /// Delete and recreate the table in one transaction: at start-up (nothing stale survives,
    /// and there is no moment without rules) and after a failed transaction.
    Replace,
    /// Rewrite every chain and map, delete what the previous ruleset had and this one lacks.
    Full,
    /// Touch only chains and elements that differ from the previous ruleset.
    Partial,
}

impl SyncKind {
    /// How much of the table the kind rewrites: partial < full < replace.
    pub fn width(self) -> u8 {
        match self {
            SyncKind::Partial => 0,
            SyncKind::Full => 1,
            SyncKind::Replace => 2,
        }
    }

    /// Label for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Replace => "replace",
            SyncKind::Full => "full",
            SyncKind::Partial => "partial",
        }
    }
}

impl Ruleset {
    /// The transaction for `kind`; `previous` is the last ruleset applied successfully
    /// (ignored for [`SyncKind::Replace`]).
    pub fn transaction(&self, kind: SyncKind, previous: &Ruleset) -> String {
        match kind {
            SyncKind::Replace => self.replace_text(),
            SyncKind::Full => self.update_text(previous, true),
            SyncKind::Partial => self.update_text(previous, false),
        }
    }

    /// A transaction that deletes the table if present and creates it with this content.
    /// `add table` first makes the `delete` valid when the table does not exist.
    pub fn replace_text(&self) -> String {
        let t = &self.table;
        let mut out = String::with_capacity(self.chains.len() * 256);
        let _ = writeln!(out, "add table {t}");
        let _ = writeln!(out, "delete table {t}");
        let _ = writeln!(
            out,
            "add table {t} {{ comment \"rules for kube-proxy\" ; }}"
        );
        for (name, c) in &self.collections {
            self.declare_collection(&mut out, name, c);
        }
        for (name, chain) in &self.chains {
            self.declare_chain(&mut out, name, chain);
        }
        for (name, chain) in &self.chains {
            self.write_rules(&mut out, name, chain);
        }
        for (name, c) in &self.collections {
            self.write_elements(&mut out, name, c.elements.iter());
        }
        out
    }

    fn declare_collection(&self, out: &mut String, name: &str, c: &Collection) {
        let kind = if c.declaration.contains(':') {
            "map"
        } else {
            "set"
        };
        let _ = writeln!(
            out,
            "add {kind} {} {name} {{ {} }}",
            self.table, c.declaration
        );
    }

    fn declare_chain(&self, out: &mut String, name: &str, chain: &Chain) {
        match &chain.hook {
            Some(hook) => {
                let _ = writeln!(out, "add chain {} {name} {{ {hook} }}", self.table);
            }
            None => {
                let _ = writeln!(out, "add chain {} {name}", self.table);
            }
        }
    }

    fn write_rules(&self, out: &mut String, name: &str, chain: &Chain) {
        for rule in &chain.rules {
            let _ = writeln!(out, "add rule {} {name} {rule}", self.table);
        }
    }

    fn write_elements<'a>(
        &self,
        out: &mut String,
        name: &str,
        elements: impl Iterator<Item = (&'a String, &'a String)>,
    ) {
        self.write_element_op(out, "add", name, elements);
    }

    fn write_element_op<'a>(
        &self,
        out: &mut String,
        op: &str,
        name: &str,
        elements: impl Iterator<Item = (&'a String, &'a String)>,
    ) {
        // Batches keep each line short enough for nft's parser on 10,000-service tables.
        let mut batch: Vec<String> = Vec::new();
        let flush = |out: &mut String, batch: &mut Vec<String>| {
            if !batch.is_empty() {
                let _ = writeln!(
                    out,
                    "{op} element {} {name} {{ {} }}",
                    self.table,
                    batch.join(", ")
                );
                batch.clear();
            }
        };
        for (k, v) in elements {
            // Deleting a map element names only its key.
            let text = if op == "delete" {
                k.clone()
            } else {
                Collection::element_text(k, v)
            };
            batch.push(text);
            if batch.len() == 500 {
                flush(out, &mut batch);
            }
        }
        flush(out, &mut batch);
    }

    /// The transaction from `previous` (what the kernel has) to `self`. With `rewrite_all`
    /// every chain and every non-dynamic set is rewritten, which also repairs rules someone
    /// else changed; otherwise only differences are written.
    fn update_text(&self, previous: &Ruleset, rewrite_all: bool) -> String {
        let t = &self.table;
        let mut out = String::new();
        // Declarations are idempotent (`add` of an existing object is a no-op), so new and
        // existing objects are treated alike; a changed declaration needs a delete first,
        // which happens below for collections whose declaration differs.
        let _ = writeln!(
            out,
            "add table {t} {{ comment \"rules for kube-proxy\" ; }}"
        );
        let mut redeclared: BTreeSet<&str> = BTreeSet::new();
        for (name, c) in &self.collections {
            match previous.collections.get(name) {
                Some(old) if old.declaration == c.declaration => {
                    if rewrite_all {
                        self.declare_collection(&mut out, name, c);
                    }
                }
                Some(_) => {
                    // Only affinity sets change declarations (their timeout is in the name,
                    // so this is a fallback); referencing rules are rewritten below.
                    redeclared.insert(name);
                }
                None => self.declare_collection(&mut out, name, c),
            }
        }
        for (name, chain) in &self.chains {
            let old = previous.chains.get(name);
            if rewrite_all || old.is_none() || old.is_some_and(|o| o.hook != chain.hook) {
                if old.is_some_and(|o| o.hook != chain.hook) {
                    let _ = writeln!(out, "flush chain {t} {name}");
                    let _ = writeln!(out, "delete chain {t} {name}");
                }
                self.declare_chain(&mut out, name, chain);
            }
        }
        for (name, chain) in &self.chains {
            let old = previous.chains.get(name);
            let changed = old != Some(chain);
            if rewrite_all || changed {
                if old.is_some() || rewrite_all {
                    let _ = writeln!(out, "flush chain {t} {name}");
                }
                self.write_rules(&mut out, name, chain);
            }
        }
        for (name, c) in &self.collections {
            let empty = Collection::default();
            let old = previous.collections.get(name).unwrap_or(&empty);
            if c.dynamic {
                continue;
            }
            if rewrite_all {
                let kind = if c.declaration.contains(':') {
                    "map"
                } else {
                    "set"
                };
                let _ = writeln!(out, "flush {kind} {t} {name}");
                self.write_elements(&mut out, name, c.elements.iter());
                continue;
            }
            let removed = old
                .elements
                .iter()
                .filter(|(k, v)| c.elements.get(*k) != Some(*v));
            self.write_element_op(&mut out, "delete", name, removed);
            let added = c
                .elements
                .iter()
                .filter(|(k, v)| old.elements.get(*k) != Some(*v));
            self.write_element_op(&mut out, "add", name, added);
        }
        // Removals last, in the order that leaves nothing referring to what is deleted: the
        // kernel refuses (EBUSY) to delete a chain a map element still jumps to, or a map a
        // rule still uses. So: empty the removed chains (their rules use maps and jump to
        // chains), then delete the removed maps (their elements jump to endpoint chains),
        // then delete the removed chains.
        let removed_chains: Vec<&String> = previous
            .chains
            .keys()
            .filter(|name| !self.chains.contains_key(*name))
            .collect();
        for name in &removed_chains {
            let _ = writeln!(out, "flush chain {t} {name}");
        }
        for (name, old) in &previous.collections {
            if !self.collections.contains_key(name) || redeclared.contains(name.as_str()) {
                let kind = if old.declaration.contains(':') {
                    "map"
                } else {
                    "set"
                };
                let _ = writeln!(out, "delete {kind} {t} {name}");
            }
        }
        for name in &removed_chains {
            let _ = writeln!(out, "delete chain {t} {name}");
        }
        for name in &redeclared {
            if let Some(c) = self.collections.get(*name) {
                self.declare_collection(&mut out, name, c);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ruleset(chains: &[(&str, &[&str])], elements: &[(&str, &str)]) -> Ruleset {
        let mut r = Ruleset {
            table: "ip kube-proxy".into(),
            ..Default::default()
        };
        for (name, rules) in chains {
            r.chains.insert(
                name.to_string(),
                Chain {
                    hook: None,
                    rules: rules.iter().map(|s| s.to_string()).collect(),
                },
            );
        }
        let mut map = Collection {
            declaration: "type ipv4_addr . inet_proto . inet_service : verdict ;".into(),
            ..Default::default()
        };
        for (k, v) in elements {
            map.elements.insert(k.to_string(), v.to_string());
        }
        r.collections.insert("service-ips".into(), map);
        r
    }

    #[test]
    fn replace_deletes_and_recreates_the_table_in_one_transaction() {
        let r = ruleset(
            &[(
                "service-a",
                &["numgen random mod 1 vmap { 0 : goto endpoint-a }"],
            )],
            &[("10.96.0.1 . tcp . 80", "goto service-a")],
        );
        let text = r.replace_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "add table ip kube-proxy");
        assert_eq!(lines[1], "delete table ip kube-proxy");
        let chain_at = lines
            .iter()
            .position(|l| *l == "add chain ip kube-proxy service-a")
            .expect("chain declared");
        let element_at = lines
            .iter()
            .position(|l| l.starts_with("add element ip kube-proxy service-ips"))
            .expect("element added");
        assert!(
            chain_at < element_at,
            "a chain exists before a map refers to it"
        );
    }

    #[test]
    fn partial_sync_touches_only_what_changed() {
        let old = ruleset(
            &[("service-a", &["rule a"]), ("service-b", &["rule b"])],
            &[
                ("10.96.0.1 . tcp . 80", "goto service-a"),
                ("10.96.0.2 . tcp . 80", "goto service-b"),
            ],
        );
        let new = ruleset(
            &[("service-a", &["rule a2"]), ("service-c", &["rule c"])],
            &[
                ("10.96.0.1 . tcp . 80", "goto service-a"),
                ("10.96.0.3 . tcp . 80", "goto service-c"),
            ],
        );
        let text = new.transaction(SyncKind::Partial, &old);
        assert!(text.contains(
            "flush chain ip kube-proxy service-a\nadd rule ip kube-proxy service-a rule a2"
        ));
        assert!(text.contains("add chain ip kube-proxy service-c\n"));
        assert!(
            !text.contains("flush chain ip kube-proxy service-c"),
            "new chain needs no flush"
        );
        assert!(text.contains("delete element ip kube-proxy service-ips { 10.96.0.2 . tcp . 80 }"));
        assert!(text.contains(
            "add element ip kube-proxy service-ips { 10.96.0.3 . tcp . 80 : goto service-c }"
        ));
        assert!(
            !text.contains("10.96.0.1 "),
            "unchanged element untouched:\n{text}"
        );
        let delete_b = text
            .find("delete chain ip kube-proxy service-b")
            .expect("b deleted");
        let delete_elem = text.find("delete element").expect("element deleted");
        assert!(
            delete_elem < delete_b,
            "the map stops referring to b before b goes"
        );
    }

    #[test]
    fn unchanged_ruleset_gives_an_empty_partial_sync() {
        let r = ruleset(&[("service-a", &["rule a"])], &[("k", "goto service-a")]);
        let text = r.transaction(SyncKind::Partial, &r.clone());
        assert_eq!(
            text.lines().count(),
            1,
            "only the idempotent add table: {text}"
        );
    }

    #[test]
    fn removed_maps_go_before_the_chains_their_elements_jump_to() {
        let mut old = ruleset(
            &[
                ("service-a", &["numgen random mod 1 vmap @service-a"]),
                ("endpoint-a", &["dnat to 10.244.0.2:80"]),
            ],
            &[],
        );
        let mut vmap = Collection {
            declaration: "typeof numgen random mod 1 : verdict ;".into(),
            ..Default::default()
        };
        vmap.elements.insert("0".into(), "goto endpoint-a".into());
        old.collections.insert("service-a".into(), vmap);
        let new = ruleset(&[], &[]);
        let text = new.transaction(SyncKind::Partial, &old);
        let at = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{needle} in {text}"))
        };
        let flush_service = at("flush chain ip kube-proxy service-a");
        let delete_map = at("delete map ip kube-proxy service-a");
        let delete_endpoint = at("delete chain ip kube-proxy endpoint-a");
        let delete_service = at("delete chain ip kube-proxy service-a");
        assert!(
            flush_service < delete_map,
            "the rule using the map goes first\n{text}"
        );
        assert!(
            delete_map < delete_endpoint,
            "the map's jump goes before its target\n{text}"
        );
        assert!(delete_map < delete_service, "{text}");
    }

    #[test]
    fn changed_map_value_is_deleted_then_added() {
        let old = ruleset(&[], &[("k", "goto service-a")]);
        let new = ruleset(&[], &[("k", "goto reject-chain")]);
        let text = new.transaction(SyncKind::Partial, &old);
        let del = text
            .find("delete element ip kube-proxy service-ips { k }")
            .unwrap();
        let add = text
            .find("add element ip kube-proxy service-ips { k : goto reject-chain }")
            .unwrap();
        assert!(del < add);
    }

    #[test]
    fn full_sync_rewrites_everything_but_dynamic_sets() {
        let mut r = ruleset(&[("service-a", &["rule a"])], &[("k", "goto service-a")]);
        r.collections.insert(
            "affinity-x".into(),
            Collection {
                declaration: "type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ;".into(),
                dynamic: true,
                ..Default::default()
            },
        );
        let text = r.transaction(SyncKind::Full, &r.clone());
        assert!(text.contains(
            "flush chain ip kube-proxy service-a\nadd rule ip kube-proxy service-a rule a"
        ));
        assert!(text.contains("flush map ip kube-proxy service-ips"));
        assert!(
            !text.contains("flush set ip kube-proxy affinity-x"),
            "affinity survives"
        );
        assert!(text.contains("add set ip kube-proxy affinity-x"));
    }
}
