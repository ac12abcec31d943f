//! gRPC contracts Rudder speaks: CRI v1 (RuntimeService, ImageService).
//!
//! Empty until the kubelet work (issue 4) adds `cri/api.proto` and its build.rs.
