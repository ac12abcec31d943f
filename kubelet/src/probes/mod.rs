//! Container probes (filled in by the probes work of issue 4).
