//! `kubectl scale`

use clap::Args;
use http::Method;
use serde_json::json;

use super::{out, Ctx};
use crate::client::Body;
use crate::error::{KubectlError, Result};

/// `kubectl scale`
#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// TYPE NAME or TYPE/NAME.
    args: Vec<String>,
    /// The new desired number of replicas.
    #[arg(long, required = true)]
    replicas: i64,
    /// Precondition for current size.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    current_replicas: i64,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    selector: Option<String>,
    /// Select all resources in the namespace of the specified resource types.
    #[arg(long)]
    all: bool,
}

/// Runs `kubectl scale`: patches `/scale` so any scalable type works.
pub async fn run(ctx: &Ctx, args: ScaleArgs) -> Result<()> {
    if args.replicas < 0 {
        return Err(KubectlError::usage(
            "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0",
        ));
    }
    let (client, mut disc) = ctx.client_and_discovery().await?;
    let targets = super::label::resolve_targets(
        &client,
        &mut disc,
        &args.args,
        args.selector.as_deref(),
        args.all,
    )
    .await?;
    let mut errors = Vec::new();
    for (res, name) in targets {
        let path = format!(
            "{}/scale",
            res.object_path(res.namespaced.then_some(client.namespace.as_str()), &name)
        );
        let r = async {
            if args.current_replicas >= 0 {
                let cur = client.get(&path).await?;
                let have = cur["spec"]["replicas"].as_i64().unwrap_or(0);
                if have != args.current_replicas {
                    return Err(KubectlError::usage(format!(
                        "Expected replicas to be {}, was {have}",
                        args.current_replicas
                    )));
                }
            }
            let body = Body {
                content_type: "application/merge-patch+json",
                bytes: json!({"spec": {"replicas": args.replicas}})
                    .to_string()
                    .into_bytes(),
            };
            client
                .request(Method::PATCH, &path, "application/json", Some(body))
                .await
        }
        .await;
        match r {
            Ok(_) => out(&format!("{}/{name} scaled\n", res.kind_prefix())),
            Err(e) => errors.push(e),
        }
    }
    super::get::report(errors)
}
