//! kubelet binary: parses upstream-named flags and runs the node agent.
fn main() {
    eprintln!("kubelet: not implemented yet (issue 4)");
    std::process::exit(2);
}
