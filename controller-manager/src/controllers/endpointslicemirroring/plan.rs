//! The writes that bring one Endpoints object's mirrored slices to the desired state, as
//! upstream's reconciler computes them: one slice per identity (address type + port set),
//! an existing slice of the same identity reused and rewritten only when its endpoints,
//! labels, annotations or owner differ, extra and unwanted slices deleted, and a slice about
//! to be deleted recycled (renamed into) for a new one of the same address type.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Endpoints;
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;

use super::desired::{sort_endpoints, SliceKey};
use super::CONTROLLER_NAME;
use crate::controllers::endpointslice::{LABEL_MANAGED_BY, LABEL_SERVICE_NAME};
use crate::controllers::podutil;

/// Endpoints annotations that are not carried over to the slices, as upstream: the
/// endpoints controller's trigger time and kubectl's last applied configuration.
const SKIPPED_ANNOTATIONS: &[&str] = &[
    "endpoints.kubernetes.io/last-change-trigger-time",
    "kubectl.kubernetes.io/last-applied-configuration",
];

/// Slices to create (generateName set), update (name and resourceVersion set) and delete.
#[derive(Debug, Default)]
pub struct Plan {
    /// New slices.
    pub create: Vec<EndpointSlice>,
    /// Replacements of existing slices.
    pub update: Vec<EndpointSlice>,
    /// Existing slices to delete.
    pub delete: Vec<EndpointSlice>,
}

/// The prefix of generated slice names, as upstream: `<endpoints>-`, or the bare name when
/// the dash would make it too long for an object name.
fn name_prefix(name: &str) -> String {
    if name.len() < 253 {
        format!("{name}-")
    } else {
        name.to_string()
    }
}

/// The slice mirroring `key`'s endpoints of `endpoints`: the Endpoints' labels plus ours,
/// its annotations minus [`SKIPPED_ANNOTATIONS`], owned (controller) by the Endpoints.
pub fn build_slice(endpoints: &Endpoints, key: &SliceKey, items: &[Endpoint]) -> EndpointSlice {
    let name = endpoints.name_any();
    let mut labels = endpoints.labels().clone();
    labels.insert(LABEL_SERVICE_NAME.into(), name.clone());
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    let annotations: BTreeMap<String, String> = endpoints
        .annotations()
        .iter()
        .filter(|(k, _)| !SKIPPED_ANNOTATIONS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(name_prefix(&name)),
            namespace: endpoints.namespace(),
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            owner_references: Some(vec![podutil::controller_ref(
                "v1",
                "Endpoints",
                &name,
                &endpoints.uid().unwrap_or_default(),
            )]),
            ..Default::default()
        },
        address_type: key.address_type.clone(),
        endpoints: items.to_vec(),
        ports: Some(key.slice_ports()),
    }
}

/// Whether `existing` already says what `want` says (endpoints in any order; absent and
/// empty label/annotation maps alike).
fn up_to_date(existing: &EndpointSlice, want: &EndpointSlice) -> bool {
    let mut endpoints = existing.endpoints.clone();
    sort_endpoints(&mut endpoints);
    endpoints == want.endpoints
        && existing.labels() == want.labels()
        && existing.annotations() == want.annotations()
        && existing.owner_references() == want.owner_references()
}

/// Turn `want` into a replacement of `existing` (its name and resourceVersion).
fn as_update_of(mut want: EndpointSlice, existing: &EndpointSlice) -> EndpointSlice {
    want.metadata.generate_name = None;
    want.metadata.name = existing.metadata.name.clone();
    want.metadata.resource_version = existing.metadata.resource_version.clone();
    want
}

/// The writes for `endpoints` given the desired groups and its existing mirrored slices.
pub fn plan(
    endpoints: &Endpoints,
    desired: &BTreeMap<SliceKey, Vec<Endpoint>>,
    existing: &[EndpointSlice],
) -> Plan {
    let mut by_key: BTreeMap<SliceKey, Vec<&EndpointSlice>> = BTreeMap::new();
    for slice in existing {
        let key = SliceKey::of_slice(&slice.address_type, slice.ports.as_deref().unwrap_or(&[]));
        by_key.entry(key).or_default().push(slice);
    }
    for group in by_key.values_mut() {
        group.sort_by_key(|s| s.name_any());
    }
    let mut out = Plan::default();
    for (key, items) in desired.iter().filter(|(_, items)| !items.is_empty()) {
        let want = build_slice(endpoints, key, items);
        match by_key.remove(key).as_deref() {
            None | Some([]) => out.create.push(want),
            Some([first, rest @ ..]) => {
                // One slice per identity: extra ones (someone else's copies) go.
                out.delete.extend(rest.iter().map(|s| (*s).clone()));
                if !up_to_date(first, &want) {
                    out.update.push(as_update_of(want, first));
                }
            }
        }
    }
    out.delete.extend(by_key.into_values().flatten().cloned());
    recycle(&mut out);
    out
}

/// Reuse slices about to be deleted for slices about to be created of the same address
/// type: one update instead of a delete and a create, as upstream's `recycleSlices`.
fn recycle(plan: &mut Plan) {
    let mut creates = Vec::new();
    for want in std::mem::take(&mut plan.create) {
        let reusable = plan
            .delete
            .iter()
            .position(|s| s.address_type == want.address_type);
        match reusable {
            Some(i) => {
                let old = plan.delete.remove(i);
                plan.update.push(as_update_of(want, &old));
            }
            None => creates.push(want),
        }
    }
    plan.create = creates;
}

#[cfg(test)]
mod tests {
    use super::super::desired::desired;
    use super::*;
    use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort as CorePort, EndpointSubset};

    fn endpoints(ips: &[&str], port: i32) -> Endpoints {
        Endpoints {
            metadata: ObjectMeta {
                name: Some("ext".into()),
                namespace: Some("default".into()),
                uid: Some("ep-uid".into()),
                labels: Some([("team".to_string(), "a".to_string())].into()),
                annotations: Some(
                    [
                        ("note".to_string(), "kept".to_string()),
                        (
                            SKIPPED_ANNOTATIONS[0].to_string(),
                            "2024-01-01T00:00:00Z".to_string(),
                        ),
                    ]
                    .into(),
                ),
                ..Default::default()
            },
            subsets: Some(vec![EndpointSubset {
                addresses: Some(
                    ips.iter()
                        .map(|ip| EndpointAddress {
                            ip: ip.to_string(),
                            ..Default::default()
                        })
                        .collect(),
                ),
                not_ready_addresses: None,
                ports: Some(vec![CorePort {
                    name: Some("http".into()),
                    port,
                    protocol: Some("TCP".into()),
                    app_protocol: None,
                }]),
            }]),
        }
    }

    fn plan_for(ep: &Endpoints, existing: &[EndpointSlice]) -> Plan {
        let d = desired(ep.subsets.as_deref().unwrap_or(&[]), 1000);
        plan(ep, &d.groups, existing)
    }

    /// What the server would hold after creating `slice` as `name`.
    fn stored(mut slice: EndpointSlice, name: &str) -> EndpointSlice {
        slice.metadata.generate_name = None;
        slice.metadata.name = Some(name.into());
        slice.metadata.resource_version = Some("7".into());
        slice
    }

    #[test]
    fn new_slice_is_labelled_annotated_and_owned_by_the_endpoints() {
        let p = plan_for(&endpoints(&["10.0.0.1"], 80), &[]);
        assert_eq!((p.create.len(), p.update.len(), p.delete.len()), (1, 0, 0));
        let s = &p.create[0];
        assert_eq!(s.metadata.generate_name.as_deref(), Some("ext-"));
        let labels = s.labels();
        assert_eq!(
            labels.get(LABEL_SERVICE_NAME).map(String::as_str),
            Some("ext")
        );
        assert_eq!(
            labels.get(LABEL_MANAGED_BY).map(String::as_str),
            Some(CONTROLLER_NAME)
        );
        assert_eq!(labels.get("team").map(String::as_str), Some("a"));
        assert_eq!(
            s.annotations().get("note").map(String::as_str),
            Some("kept")
        );
        assert!(!s.annotations().contains_key(SKIPPED_ANNOTATIONS[0]));
        let owner = podutil::controller_of(&s.metadata).expect("owner");
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("Endpoints", "ep-uid")
        );
    }

    #[test]
    fn an_up_to_date_slice_is_left_alone_and_a_changed_one_rewritten_in_place() {
        let ep = endpoints(&["10.0.0.1", "10.0.0.2"], 80);
        let mut current = stored(plan_for(&ep, &[]).create.remove(0), "ext-abcde");
        current.endpoints.reverse();
        let p = plan_for(&ep, std::slice::from_ref(&current));
        assert_eq!((p.create.len(), p.update.len(), p.delete.len()), (0, 0, 0));

        let p = plan_for(
            &endpoints(&["10.0.0.1"], 80),
            std::slice::from_ref(&current),
        );
        assert_eq!((p.create.len(), p.update.len(), p.delete.len()), (0, 1, 0));
        assert_eq!(p.update[0].metadata.name.as_deref(), Some("ext-abcde"));
        assert_eq!(p.update[0].metadata.resource_version.as_deref(), Some("7"));
        assert_eq!(p.update[0].endpoints.len(), 1);

        let mut relabelled = ep.clone();
        relabelled.labels_mut().insert("team".into(), "b".into());
        let p = plan_for(&relabelled, std::slice::from_ref(&current));
        assert_eq!(p.update.len(), 1, "label changes are mirrored");
    }

    #[test]
    fn a_new_port_set_recycles_the_old_slice_and_no_addresses_delete_it() {
        let current = stored(
            plan_for(&endpoints(&["10.0.0.1"], 80), &[])
                .create
                .remove(0),
            "ext-abcde",
        );
        let p = plan_for(
            &endpoints(&["10.0.0.1"], 8080),
            std::slice::from_ref(&current),
        );
        assert_eq!((p.create.len(), p.update.len(), p.delete.len()), (0, 1, 0));
        assert_eq!(p.update[0].metadata.name.as_deref(), Some("ext-abcde"));
        assert_eq!(
            p.update[0].ports.as_ref().and_then(|p| p[0].port),
            Some(8080)
        );

        let p = plan_for(&endpoints(&[], 80), std::slice::from_ref(&current));
        assert_eq!((p.create.len(), p.update.len(), p.delete.len()), (0, 0, 1));
    }

    #[test]
    fn duplicate_slices_of_one_identity_are_reduced_to_one() {
        let ep = endpoints(&["10.0.0.1"], 80);
        let want = plan_for(&ep, &[]).create.remove(0);
        let a = stored(want.clone(), "ext-aaaaa");
        let b = stored(want, "ext-bbbbb");
        let p = plan_for(&ep, &[b, a]);
        assert_eq!((p.create.len(), p.update.len(), p.delete.len()), (0, 0, 1));
        assert_eq!(p.delete[0].metadata.name.as_deref(), Some("ext-bbbbb"));
    }
}
