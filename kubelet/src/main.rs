//! kubelet binary: parses upstream-named flags and runs the node agent.
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = kubelet::config::Flags::parse();
    common::logging::init(flags.verbosity);
    kubelet::run::run(flags).await
}
