//! kube-controller-manager — not built yet; the work is tracked in issue 5. The binary exists so the workspace
//! has the shape of DESIGN.md; it refuses to run rather than pretend.

fn main() {
    eprintln!("kube-controller-manager: not implemented yet in Rudder (issue 5)");
    std::process::exit(2);
}
