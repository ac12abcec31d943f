//! `kubectl api-resources`

use clap::Args;

use super::{out, Ctx};
use crate::discovery::Discovery;
use crate::error::{KubectlError, Result};
use crate::printers::tabwriter::TabWriter;
use crate::resource::ApiResource;

/// `kubectl api-resources`
#[derive(Debug, Args)]
pub struct ApiResourcesArgs {
    /// Output format: wide or name.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// If false, non-namespaced resources will be returned, otherwise namespaced ones.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    namespaced: Option<bool>,
    /// Limit to resources in the specified API group.
    #[arg(long)]
    api_group: Option<String>,
    /// Limit to resources that support the specified verbs.
    #[arg(long, value_delimiter = ',')]
    verbs: Vec<String>,
    /// When using the default or custom-column output format, don't print headers.
    #[arg(long)]
    no_headers: bool,
    /// Sort by 'name' or 'kind'.
    #[arg(long)]
    sort_by: Option<String>,
    /// Use the cached list of resources if available.
    #[arg(long)]
    cached: bool,
    /// Limit to resources in the specified categories.
    #[arg(long, value_delimiter = ',')]
    categories: Vec<String>,
}

/// Runs `kubectl api-resources`.
pub async fn run(ctx: &Ctx, args: ApiResourcesArgs) -> Result<()> {
    let client = ctx.client().await?;
    let d = if args.cached {
        Discovery::load(&client).await?
    } else {
        Discovery::refresh(&client).await?
    };
    let mut list: Vec<&ApiResource> = d
        .resources
        .iter()
        .filter(|r| r.preferred)
        .filter(|r| args.namespaced.is_none_or(|n| r.namespaced == n))
        .filter(|r| args.api_group.as_ref().is_none_or(|g| &r.group == g))
        .filter(|r| args.verbs.iter().all(|v| r.verbs.contains(v)))
        .filter(|r| args.categories.iter().all(|c| r.categories.contains(c)))
        .collect();
    let key = |r: &ApiResource| -> String {
        match args.sort_by.as_deref() {
            Some("name") => r.plural.clone(),
            Some("kind") => r.kind.clone(),
            _ => r.group.clone(),
        }
    };
    if let Some(s) = args.sort_by.as_deref() {
        if s != "name" && s != "kind" {
            return Err(KubectlError::usage(
                "--sort-by accepts only name or kind".to_string(),
            ));
        }
    }
    list.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.plural.cmp(&b.plural)));
    let wide = match args.output.as_deref() {
        None | Some("") => false,
        Some("wide") => true,
        Some("name") => {
            let mut s = String::new();
            for r in list {
                s.push_str(&r.qualified_plural());
                s.push('\n');
            }
            out(&s);
            return Ok(());
        }
        Some(o) => {
            return Err(KubectlError::usage(format!(
                "--output {o} is not available"
            )))
        }
    };
    let mut tw = TabWriter::new();
    if !args.no_headers {
        let mut h = vec!["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"];
        if wide {
            h.extend(["VERBS", "CATEGORIES"]);
        }
        tw.row(h.into_iter().map(String::from).collect());
    }
    for r in list {
        let mut row = vec![
            r.plural.clone(),
            r.short_names.join(","),
            r.api_version(),
            r.namespaced.to_string(),
            r.kind.clone(),
        ];
        if wide {
            row.push(r.verbs.join(","));
            row.push(r.categories.join(","));
        }
        tw.row(row);
    }
    out(&tw.flush());
    Ok(())
}
