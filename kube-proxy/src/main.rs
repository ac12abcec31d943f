//! kube-proxy — not built yet; the work is tracked in issue 6. The binary exists so the workspace
//! has the shape of DESIGN.md; it refuses to run rather than pretend.

fn main() {
    eprintln!("kube-proxy: not implemented yet in Rudder (issue 6)");
    std::process::exit(2);
}
