//! ControllerRevisions (apps/v1): the template history of StatefulSets and DaemonSets, as
//! upstream's `pkg/controller/history`. A revision stores its template as the patch upstream
//! stores (`{"spec":{"template":{…,"$patch":"replace"}}}`), is named `<owner>-<hash>`,
//! and carries the hash in the `controller-revision-hash` label.

use std::collections::{BTreeMap, HashSet};

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use serde_json::json;

use super::deployment_util;
use super::podutil;

/// Label on revisions (and on the owner's pods) naming the template's hash.
pub const CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";

/// The `data` a revision of `template` holds.
pub fn revision_data(template: &PodTemplateSpec) -> serde_json::Value {
    let mut t = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": t}})
}

/// The template a revision holds, if its data has one.
pub fn template_of(rev: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = rev.data.as_ref()?.0.get("spec")?.get("template")?.clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    serde_json::from_value(t).ok()
}

/// Whether a revision holds `template` (ignoring empty fields, as Go struct equality does).
pub fn holds(rev: &ControllerRevision, template: &PodTemplateSpec) -> bool {
    template_of(rev).is_some_and(|t| {
        deployment_util::template_ignoring_hash(&t)
            == deployment_util::template_ignoring_hash(template)
    })
}

/// The revisions in `namespace` controlled by the object with `uid`, oldest first.
pub async fn list_owned(
    api: &Api<ControllerRevision>,
    uid: &str,
) -> Result<Vec<ControllerRevision>, kube::Error> {
    let mut revs: Vec<_> = api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|r| podutil::controller_of(&r.metadata).is_some_and(|o| o.uid == uid))
        .collect();
    revs.sort_by_key(|r| r.revision);
    Ok(revs)
}

/// The result of [`ensure`]: the revision for the current template, and the collision
/// count to record in the owner's status when a hash collision forced a new one.
pub struct Ensured {
    /// The revision holding the owner's current template.
    pub revision: ControllerRevision,
    /// `status.collisionCount` after this call.
    pub collision_count: i32,
}

/// Find or create the revision holding `template` (upstream's `getStatefulSetRevisions` /
/// `constructHistory`): an equal revision that is not the newest is renumbered to be the
/// newest; otherwise a new one numbered after the newest is created.
#[allow(clippy::too_many_arguments)]
pub async fn ensure(
    api: &Api<ControllerRevision>,
    owner: &OwnerReference,
    labels: &BTreeMap<String, String>,
    template: &PodTemplateSpec,
    collision_count: i32,
    revisions: &[ControllerRevision],
) -> Result<Ensured, kube::Error> {
    let next = revisions.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    if let Some(equal) = revisions.iter().rev().find(|r| holds(r, template)) {
        let newest = revisions.last().map(|r| r.revision) == Some(equal.revision);
        if newest {
            return Ok(Ensured {
                revision: equal.clone(),
                collision_count,
            });
        }
        let patched = api
            .patch(
                &equal.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&json!({"revision": next})),
            )
            .await?;
        return Ok(Ensured {
            revision: patched,
            collision_count,
        });
    }
    let mut count = collision_count;
    loop {
        let hash = deployment_util::compute_hash(template, (count > 0).then_some(count));
        let mut rev_labels = labels.clone();
        rev_labels.insert(CONTROLLER_REVISION_HASH.into(), hash.clone());
        let rev = ControllerRevision {
            metadata: ObjectMeta {
                name: Some(format!("{}-{hash}", owner.name)),
                labels: Some(rev_labels),
                owner_references: Some(vec![owner.clone()]),
                ..Default::default()
            },
            data: Some(RawExtension(revision_data(template))),
            revision: next,
        };
        match api.create(&PostParams::default(), &rev).await {
            Ok(created) => {
                tracing::info!(revision = %created.name_any(), number = next, "created controller revision");
                return Ok(Ensured {
                    revision: created,
                    collision_count: count,
                });
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {
                let existing = api.get(&rev.name_any()).await?;
                let ours =
                    podutil::controller_of(&existing.metadata).is_some_and(|o| o.uid == owner.uid);
                if ours && holds(&existing, template) {
                    return Ok(Ensured {
                        revision: existing,
                        collision_count: count,
                    });
                }
                // A hash collision: as upstream, bump the collision count and rehash.
                count += 1;
                if count > collision_count + 10 {
                    return Err(kube::Error::Api(e));
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Names of the revisions to delete so at most `limit` revisions that no live pod uses
/// (and that are neither current nor update revision) remain, oldest first
/// (upstream's `truncateHistory`). `revisions` is sorted oldest first.
pub fn to_truncate(
    revisions: &[ControllerRevision],
    live: &HashSet<String>,
    limit: i32,
) -> Vec<String> {
    let unused: Vec<&ControllerRevision> = revisions
        .iter()
        .filter(|r| !live.contains(&r.name_any()))
        .collect();
    let limit = limit.max(0) as usize;
    if unused.len() <= limit {
        return Vec::new();
    }
    unused[..unused.len() - limit]
        .iter()
        .map(|r| r.name_any())
        .collect()
}

/// Delete the named revisions; ones already gone are fine.
pub async fn delete(api: &Api<ControllerRevision>, names: &[String]) -> Result<(), kube::Error> {
    for name in names {
        match api.delete(name, &Default::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    fn template(image: &str) -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: None,
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    image: Some(image.into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }
    }

    fn rev(name: &str, number: i64, image: &str) -> ControllerRevision {
        ControllerRevision {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            data: Some(RawExtension(revision_data(&template(image)))),
            revision: number,
        }
    }

    #[test]
    fn data_round_trips_and_is_a_replace_patch() {
        let r = rev("a", 1, "nginx:1");
        assert_eq!(
            r.data
                .as_ref()
                .map(|d| d.0["spec"]["template"]["$patch"].clone()),
            Some(json!("replace"))
        );
        assert!(holds(&r, &template("nginx:1")));
        assert!(!holds(&r, &template("nginx:2")));
    }

    #[test]
    fn truncation_keeps_live_and_newest_unused() {
        let revs = vec![
            rev("r1", 1, "a"),
            rev("r2", 2, "b"),
            rev("r3", 3, "c"),
            rev("r4", 4, "d"),
        ];
        let live: HashSet<String> = ["r1".to_string(), "r4".to_string()].into();
        assert_eq!(to_truncate(&revs, &live, 1), vec!["r2".to_string()]);
        assert!(to_truncate(&revs, &live, 2).is_empty());
        assert_eq!(to_truncate(&revs, &live, 0).len(), 2);
    }
}
