//! kube-scheduler — not built yet; the work is tracked in issue 3. The binary exists so the workspace
//! has the shape of DESIGN.md; it refuses to run rather than pretend.

fn main() {
    eprintln!("kube-scheduler: not implemented yet in Rudder (issue 3)");
    std::process::exit(2);
}
