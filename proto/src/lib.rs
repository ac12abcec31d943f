//! gRPC contracts Rudder speaks.
//!
//! `cri::v1` is the Container Runtime Interface the kubelet uses to drive containerd:
//! `runtime_service_client` / `image_service_client` for the kubelet, and the matching
//! servers for the fake runtime used by tests and hollow nodes.

pub mod cri {
    pub mod v1 {
        #![allow(clippy::all, missing_docs)]
        tonic::include_proto!("runtime.v1");

        /// The encoded `FileDescriptorSet` of our CRI contract (for the wire-compatibility test).
        pub const FILE_DESCRIPTOR_SET: &[u8] =
            include_bytes!(concat!(env!("OUT_DIR"), "/cri_descriptor.bin"));
    }
}
