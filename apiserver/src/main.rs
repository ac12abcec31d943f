fn main() {
    eprintln!("kube-apiserver: starting is not wired yet");
    std::process::exit(2);
}
