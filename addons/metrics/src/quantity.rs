//! Usage as Kubernetes quantities, in the forms upstream's metrics-server writes: CPU in
//! nanocores (`12345678n`), memory in binary units when exact (`10436Ki`).

/// CPU usage, e.g. `250000000n`; zero is `0`.
pub fn cpu(nanocores: u64) -> String {
    if nanocores == 0 {
        "0".to_string()
    } else {
        format!("{nanocores}n")
    }
}

/// Memory, e.g. `10436Ki`, `2Gi`, or plain bytes when no binary unit divides it.
pub fn memory(bytes: u64) -> String {
    if bytes == 0 {
        return "0".to_string();
    }
    let mut value = bytes;
    let mut suffix = "";
    for s in ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"] {
        if !value.is_multiple_of(1024) {
            break;
        }
        value /= 1024;
        suffix = s;
    }
    format!("{value}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_upstream() {
        assert_eq!(cpu(0), "0");
        assert_eq!(cpu(1_234), "1234n");
        assert_eq!(memory(4096), "4Ki");
        assert_eq!(memory(10_686_464), "10436Ki");
        assert_eq!(memory(2 * 1024 * 1024 * 1024), "2Gi");
        assert_eq!(memory(1000), "1000");
    }
}
