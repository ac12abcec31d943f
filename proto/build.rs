//! Compiles the CRI v1 contract into Rust types and tonic clients/servers. The encoded
//! descriptor is kept too, so a test can compare our contract with the runtime's own.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let proto = "cri/runtime/v1/api.proto";
    println!("cargo:rerun-if-changed={proto}");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .file_descriptor_set_path(out_dir.join("cri_descriptor.bin"))
        .compile_protos(&[proto], &["cri"])?;
    Ok(())
}
