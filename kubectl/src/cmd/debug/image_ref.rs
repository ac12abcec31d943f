//! Whether a string is a well-formed image reference, by the grammar of the distribution
//! project that upstream kubectl checks `--image` and `--set-image` against:
//! `[domain[:port]/]path[:tag][@digest]`, with lower-case path components.

/// True for a reference such as `busybox`, `registry.k8s.io:5000/e2e/agnhost:2.39` or
/// `busybox@sha256:<64 hex>`.
pub fn is_valid(reference: &str) -> bool {
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    if digest.is_some_and(|d| !is_digest(d)) {
        return false;
    }
    // A tag follows the last ':' only when no '/' comes after it (else it is a port).
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if tag.is_some_and(|t| !is_tag(t)) {
        return false;
    }
    let components: Vec<&str> = name.split('/').collect();
    let path_from = |first: usize| components[first..].iter().all(|c| is_path_component(c));
    path_from(0) || (components.len() > 1 && is_domain(components[0]) && path_from(1))
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn is_path_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let dashes = sep.bytes().all(|b| b == b'-');
        if !(sep == "." || sep == "_" || sep == "__" || dashes) {
            return false;
        }
    }
    true
}

/// `host[:port]`: DNS-style labels joined by dots, or a bracketed IPv6 address.
fn is_domain(d: &str) -> bool {
    let (host, port) = if let Some(v6) = d.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return false;
        };
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after.strip_prefix(':') {
            Some(port) => return !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()),
            None => return after.is_empty(),
        }
    } else {
        match d.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (d, None),
        }
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    host.split('.').all(|label| {
        let b = label.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    })
}

/// `[\w][\w.-]{0,127}`.
fn is_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|c| word(*c) || *c == b'.' || *c == b'-')
}

/// `algorithm:hex` with at least 32 hex digits; the algorithm is letters and digits in
/// parts joined by `+`, `.`, `-` or `_`, each part starting with a letter.
fn is_digest(d: &str) -> bool {
    let Some((algorithm, hex)) = d.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['+', '.', '-', '_']).all(|part| {
        part.as_bytes()
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && part.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    algorithm_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn accepts_what_docker_accepts() {
        for good in [
            "busybox",
            "busybox:latest",
            "library/busybox:1.36.1",
            "registry.k8s.io/e2e-test-images/agnhost:2.39",
            "localhost:5000/my_app__x/a.b-c:v1",
            "[::1]:5000/app",
            "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a---b",
            "Registry.Example.com/app",
        ] {
            assert!(is_valid(good), "{good}");
        }
    }

    #[test]
    fn refuses_what_docker_refuses() {
        for bad in [
            "",
            "Bad:Image",
            "UPPER",
            "app:",
            "app:-tag",
            "a..b",
            "-app",
            "app/",
            "host:port/app",
            "app@sha256:short",
            "app@:0123456789abcdef0123456789abcdef",
            "a b",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}
