//! Images for containers, by `imagePullPolicy`. No registry is reachable from this project's
//! machines, so unless `--pull-from-registries` is set the kubelet never asks the runtime to
//! pull: present images are used (also under `Always`), missing ones are `ErrImagePull`.
use k8s_openapi::api::core::v1::{Container, Pod};
use proto::cri::v1 as cri;

use super::context::KubeletContext;
use super::status::Waiting;

fn waiting(reason: &str, message: String) -> Waiting {
    Waiting {
        reason: reason.into(),
        message,
    }
}

/// Whether the runtime holds the image.
async fn present(ctx: &KubeletContext, image: &str) -> Result<bool, tonic::Status> {
    let response = ctx
        .runtime
        .images
        .clone()
        .image_status(cri::ImageStatusRequest {
            image: Some(cri::ImageSpec {
                image: image.into(),
                ..Default::default()
            }),
            verbose: false,
        })
        .await?;
    Ok(response.into_inner().image.is_some())
}

/// Makes the container's image available, or says why it is not (the container's waiting
/// reason), recording the events upstream records.
pub async fn ensure(
    ctx: &KubeletContext,
    pod: &Pod,
    c: &Container,
    field_path: Option<String>,
) -> Result<(), Waiting> {
    let image = c.image.clone().unwrap_or_default();
    if image.is_empty() {
        return Err(waiting("InvalidImageName", "container has no image".into()));
    }
    let policy = c
        .image_pull_policy
        .clone()
        .unwrap_or_else(|| "IfNotPresent".into());
    let have = match present(ctx, &image).await {
        Ok(have) => have,
        Err(status) => {
            let message = format!("checking image {image:?}: {}", status.message());
            return Err(waiting("ErrImagePull", message));
        }
    };
    let must_pull = match policy.as_str() {
        "Never" => {
            if have {
                return Ok(());
            }
            let message =
                format!("Container image \"{image}\" is not present with pull policy of Never");
            ctx.recorder
                .pod_event(pod, field_path, true, "ErrImageNeverPull", message.clone());
            return Err(waiting("ErrImageNeverPull", message));
        }
        "Always" => ctx.pull_from_registries || !have,
        _ => !have,
    };
    if !must_pull {
        ctx.recorder.pod_event(
            pod,
            field_path,
            false,
            "Pulled",
            format!("Container image \"{image}\" already present on machine"),
        );
        return Ok(());
    }
    if !ctx.pull_from_registries {
        let message = format!(
            "image \"{image}\" is not present on this node and pulling from registries is disabled \
             (--pull-from-registries=false); import it into the runtime (hack/build-images.sh)"
        );
        ctx.recorder.pod_event(
            pod,
            field_path,
            true,
            "Failed",
            format!("Failed to pull image \"{image}\": {message}"),
        );
        return Err(waiting("ErrImagePull", message));
    }
    ctx.recorder.pod_event(
        pod,
        field_path.clone(),
        false,
        "Pulling",
        format!("Pulling image \"{image}\""),
    );
    let started = std::time::Instant::now();
    let pulled = ctx
        .runtime
        .images
        .clone()
        .pull_image(cri::PullImageRequest {
            image: Some(cri::ImageSpec {
                image: image.clone(),
                ..Default::default()
            }),
            auth: None,
            sandbox_config: None,
        })
        .await;
    match pulled {
        Ok(_) => {
            ctx.recorder.pod_event(
                pod,
                field_path,
                false,
                "Pulled",
                format!(
                    "Successfully pulled image \"{image}\" in {:?}",
                    started.elapsed()
                ),
            );
            Ok(())
        }
        Err(status) => {
            let message = format!("Failed to pull image \"{image}\": {}", status.message());
            ctx.recorder
                .pod_event(pod, field_path, true, "Failed", message.clone());
            Err(waiting("ErrImagePull", message))
        }
    }
}
