//! The kubelet's HTTPS server (filled in by the server work of issue 4).
