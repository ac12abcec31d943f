//! `kubectl api-versions`

use super::{out, Ctx};
use crate::discovery::Discovery;
use crate::error::Result;

/// Prints every served group/version, sorted, one per line.
pub async fn run(ctx: &Ctx) -> Result<()> {
    let client = ctx.client().await?;
    // Upstream always asks the server here rather than trusting the cache.
    let d = Discovery::refresh(&client).await?;
    let mut gvs = d.group_versions.clone();
    gvs.sort();
    gvs.dedup();
    let mut s = String::new();
    for gv in gvs {
        s.push_str(&gv);
        s.push('\n');
    }
    out(&s);
    Ok(())
}
