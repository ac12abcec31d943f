//! Pod volumes on the host (filled in by the volumes work of issue 4).
