//! kubectl — not built yet; the work is tracked in issue 8. The binary exists so the workspace
//! has the shape of DESIGN.md; it refuses to run rather than pretend.

fn main() {
    eprintln!("kubectl: not implemented yet in Rudder (issue 8)");
    std::process::exit(2);
}
