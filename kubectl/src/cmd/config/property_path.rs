//! Property paths of `kubectl config set|unset` (`users.bob.token`, `contexts.a.b.namespace`).
//!
//! Upstream walks client-go's *internal* `api.Config` by its JSON tags, so the names are those
//! of the internal types: a user's impersonation fields are `act-as…` (not the file's `as…`),
//! and `-` names an entry's `LocationOfOrigin`. A map key may contain dots: it runs until the
//! next part that names a field of the map's value type, or to the end.

use super::model::Section;

/// What a field of the internal types holds, as far as `set` and `unset` care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `api.Config`, the root.
    Config,
    /// `api.Preferences`.
    Preferences,
    /// `map[string]*api.Cluster` and its siblings.
    Entries(Section),
    /// `api.Cluster`, `api.Context`, `api.AuthInfo`.
    Entry(Section),
    Str,
    Bool,
    /// `[]byte`: base64 on the command line unless `--set-raw-bytes`.
    Bytes,
    /// `[]string`: `set` refuses it.
    StrList,
    /// `map[string][]string`.
    StrLists,
    /// `map[string]runtime.Object` (extensions), whose values cannot be walked.
    Objects,
    /// An entry's `LocationOfOrigin` (`json:"-"`): the file it is written to.
    Origin,
    /// `*api.AuthProviderConfig`, `*api.ExecConfig`: kubectl 1.32 does not walk into them.
    Pointer,
}

/// A field: its internal JSON tag, the key the file uses for it, and what it holds.
#[derive(Debug)]
pub struct Field {
    pub tag: &'static str,
    pub key: &'static str,
    pub kind: Kind,
}

const fn f(tag: &'static str, kind: Kind) -> Field {
    Field {
        tag,
        key: tag,
        kind,
    }
}

/// A field the file spells differently from the internal type.
const fn renamed(tag: &'static str, key: &'static str, kind: Kind) -> Field {
    Field { tag, key, kind }
}

const CONFIG: &[Field] = &[
    f("kind", Kind::Str),
    f("apiVersion", Kind::Str),
    f("preferences", Kind::Preferences),
    f("clusters", Kind::Entries(Section::Clusters)),
    f("users", Kind::Entries(Section::Users)),
    f("contexts", Kind::Entries(Section::Contexts)),
    f("current-context", Kind::Str),
    f("extensions", Kind::Objects),
];

const PREFERENCES: &[Field] = &[f("colors", Kind::Bool), f("extensions", Kind::Objects)];

const CLUSTER: &[Field] = &[
    f("-", Kind::Origin),
    f("server", Kind::Str),
    f("tls-server-name", Kind::Str),
    f("insecure-skip-tls-verify", Kind::Bool),
    f("certificate-authority", Kind::Str),
    f("certificate-authority-data", Kind::Bytes),
    f("proxy-url", Kind::Str),
    f("disable-compression", Kind::Bool),
    f("extensions", Kind::Objects),
];

const AUTH_INFO: &[Field] = &[
    f("-", Kind::Origin),
    f("client-certificate", Kind::Str),
    f("client-certificate-data", Kind::Bytes),
    f("client-key", Kind::Str),
    f("client-key-data", Kind::Bytes),
    f("token", Kind::Str),
    f("tokenFile", Kind::Str),
    renamed("act-as", "as", Kind::Str),
    renamed("act-as-uid", "as-uid", Kind::Str),
    renamed("act-as-groups", "as-groups", Kind::StrList),
    renamed("act-as-user-extra", "as-user-extra", Kind::StrLists),
    f("username", Kind::Str),
    f("password", Kind::Str),
    f("auth-provider", Kind::Pointer),
    f("exec", Kind::Pointer),
    f("extensions", Kind::Objects),
];

const CONTEXT: &[Field] = &[
    f("-", Kind::Origin),
    f("cluster", Kind::Str),
    f("user", Kind::Str),
    f("namespace", Kind::Str),
    f("extensions", Kind::Objects),
];

/// The Go type name and fields of a struct kind.
pub fn struct_of(kind: Kind) -> Option<(&'static str, &'static [Field])> {
    match kind {
        Kind::Config => Some(("api.Config", CONFIG)),
        Kind::Preferences => Some(("api.Preferences", PREFERENCES)),
        Kind::Entry(Section::Clusters) => Some(("api.Cluster", CLUSTER)),
        Kind::Entry(Section::Users) => Some(("api.AuthInfo", AUTH_INFO)),
        Kind::Entry(Section::Contexts) => Some(("api.Context", CONTEXT)),
        _ => None,
    }
}

/// The field `tag` of the struct kind `kind`.
pub fn field(kind: Kind, tag: &str) -> Option<&'static Field> {
    struct_of(kind)?.1.iter().find(|f| f.tag == tag)
}

/// One step of a path: a field tag or a map key, and what it leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub kind: Kind,
}

/// Why a path was refused. Some paths made upstream's kubectl panic (exit status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    Error(String),
    Panic(String),
}

/// Splits `path` into steps, with upstream's errors for paths that lead nowhere.
pub fn parse(path: &str) -> Result<Vec<Step>, PathError> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut steps: Vec<Step> = Vec::new();
    let mut kind = Kind::Config;
    let mut i = 0;
    while i < parts.len() {
        match kind {
            Kind::Entries(section) => {
                let value = Kind::Entry(section);
                let name = map_key(&parts[i..], value);
                i += name.split('.').count();
                steps.push(Step { name, kind: value });
                kind = value;
            }
            Kind::Config | Kind::Preferences | Kind::Entry(_) => {
                let Some(fd) = field(kind, parts[i]) else {
                    let go_type = struct_of(kind).map(|(n, _)| n).unwrap_or("");
                    return Err(PathError::Error(format!(
                        "unable to parse {path} after {} at {go_type}",
                        go_steps(&steps)
                    )));
                };
                steps.push(Step {
                    name: parts[i].to_string(),
                    kind: fd.kind,
                });
                i += 1;
                kind = fd.kind;
            }
            // Go asks the map's value type for its fields: a string has none, and a
            // runtime.Object is an interface whose element type reflect cannot take.
            Kind::StrLists => {
                return Err(PathError::Error("string is not of type struct".into()));
            }
            Kind::Objects => {
                return Err(PathError::Panic(
                    "reflect: Elem of invalid type runtime.Object".into(),
                ));
            }
            _ => {
                return Err(PathError::Error(format!(
                    "unable to parse one or more field values of {path}"
                )));
            }
        }
    }
    Ok(steps)
}

/// A map key starting at `parts[0]`: everything up to the next part that names a field of
/// the value type `value`, or all of it.
fn map_key(parts: &[&str], value: Kind) -> String {
    let end = parts
        .iter()
        .skip(1)
        .position(|p| field(value, p).is_some())
        .map(|at| at + 1)
        .unwrap_or(parts.len());
    parts[..end].join(".")
}

/// The steps as Go's `%v` prints them. Go prints each step's type as the address of its type
/// descriptor; the only place this is seen is after `preferences`, whose address in kubectl
/// 1.32 is the one below.
fn go_steps(steps: &[Step]) -> String {
    let items: Vec<String> = steps
        .iter()
        .map(|s| format!("{{{} 0x203acc0}}", s.name))
        .collect();
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(path: &str) -> Vec<String> {
        parse(path).unwrap().into_iter().map(|s| s.name).collect()
    }

    #[test]
    fn map_keys_run_to_the_next_known_field() {
        assert_eq!(
            names("clusters.10.0.0.1.server"),
            ["clusters", "10.0.0.1", "server"]
        );
        assert_eq!(names("users.bob.as"), ["users", "bob.as"]);
        assert_eq!(names("contexts.a.b.c"), ["contexts", "a.b.c"]);
        assert_eq!(names("clusters..server"), ["clusters", "", "server"]);
        // The first part of a key is the key even when it names a field.
        assert_eq!(
            names("contexts.cluster.cluster"),
            ["contexts", "cluster", "cluster"]
        );
        let steps = parse("users.u.act-as").unwrap();
        assert_eq!(steps[2].kind, Kind::Str);
        assert_eq!(
            field(Kind::Entry(Section::Users), "act-as").map(|f| f.key),
            Some("as")
        );
    }

    #[test]
    fn paths_that_lead_nowhere_are_refused_in_upstream_words() {
        let err = |p: &str| parse(p).unwrap_err();
        assert_eq!(
            err("bogus"),
            PathError::Error("unable to parse bogus after [] at api.Config".into())
        );
        assert_eq!(
            err("preferences.bogus"),
            PathError::Error(
                "unable to parse preferences.bogus after [{preferences 0x203acc0}] at api.Preferences"
                    .into()
            )
        );
        assert_eq!(
            err("clusters.c.server.x"),
            PathError::Error(
                "unable to parse one or more field values of clusters.c.server.x".into()
            )
        );
        assert_eq!(
            err("users.u.exec.command"),
            PathError::Error(
                "unable to parse one or more field values of users.u.exec.command".into()
            )
        );
        assert_eq!(
            err("users.u.act-as-user-extra.k"),
            PathError::Error("string is not of type struct".into())
        );
        assert!(matches!(
            err("clusters.c.extensions.e"),
            PathError::Panic(_)
        ));
    }
}
