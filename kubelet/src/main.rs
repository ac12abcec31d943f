//! kubelet — not built yet; the work is tracked in issue 4. The binary exists so the workspace
//! has the shape of DESIGN.md; it refuses to run rather than pretend.

fn main() {
    eprintln!("kubelet: not implemented yet in Rudder (issue 4)");
    std::process::exit(2);
}
