//! Structured logging for every daemon: `RUST_LOG` filters, `-v` style verbosity otherwise.

use tracing_subscriber::EnvFilter;

/// Install the global tracing subscriber. `verbosity` follows klog's `-v`: 0 info, ≥4 debug,
/// ≥6 trace. `RUST_LOG` wins when set.
pub fn init(verbosity: u8) {
    let default = match verbosity {
        0..=3 => "info",
        4..=5 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // A second init (tests) is harmless.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .try_init();
}
