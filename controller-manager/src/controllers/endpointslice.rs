//! The EndpointSlice controller (upstream `pkg/controller/endpointslice`): the pods a
//! Service selects become endpoints in `discovery.k8s.io/v1` EndpointSlices owned by the
//! Service, at most [`MAX_ENDPOINTS_PER_SLICE`] per slice, one port set and one address
//! family per slice: a dual-stack Service (`spec.ipFamilies: [IPv4, IPv6]`) gets `IPv4` slices
//! from its pods' IPv4 `status.podIPs` and `IPv6` slices from their IPv6 ones, as upstream's
//! reconciler does per address type.
//!
//! Services without a selector are left alone: their slices are written by hand, or
//! mirrored from hand-written Endpoints by the `endpointslicemirroring` controller. Slices
//! of a deleted Service go with it through their ownerReference (garbage collector).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, ObjectReference, Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Client, ResourceExt};

use super::endpoint_util::{self as util, ResolvedPort};
use super::podutil;

/// Upstream's default `--max-endpoints-per-slice`.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// Label naming the Service a slice belongs to.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// Label naming the controller that manages a slice.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// Our value of [`LABEL_MANAGED_BY`].
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// Why one sync failed (it is retried).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("API: {0}")]
    Api(#[from] kube::Error),
    #[error("Service has no namespace")]
    NoNamespace,
}

struct Context {
    client: Client,
}

/// Run until the watch streams end.
pub async fn run(client: Client) {
    let ctx = Arc::new(Context {
        client: client.clone(),
    });
    // Our slices are owned by their Service: a slice changed or deleted by someone else
    // requeues it and is repaired.
    let slices: Api<EndpointSlice> = Api::all(client.clone());
    let controller = util::service_controller(client).owns(slices, Default::default());
    // Slices of a deleted Service go with it through their ownerReference.
    util::run(controller, "endpointslice", ctx, reconcile, |_, _| async {}).await;
}

async fn reconcile(svc: Arc<Service>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = svc.namespace().ok_or(Error::NoNamespace)?;
    if svc.metadata.deletion_timestamp.is_some() || !util::has_selector(&svc) {
        return Ok(Action::await_change());
    }
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let slices: Api<EndpointSlice> = Api::namespaced(ctx.client.clone(), &ns);
    let selected: Vec<Pod> = pods
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|p| util::selects(&svc, p) && util::should_be_endpoint(p, true))
        .collect();
    let zones = node_zones(&ctx.client, &selected).await;
    let desired = desired_groups(&svc, &selected, &zones);

    let list = ListParams::default().labels(&format!("{LABEL_SERVICE_NAME}={}", svc.name_any()));
    let mut existing: Vec<EndpointSlice> = slices
        .list(&list)
        .await?
        .items
        .into_iter()
        .filter(|s| s.labels().get(LABEL_MANAGED_BY).map(String::as_str) == Some(CONTROLLER_NAME))
        .collect();
    existing.sort_by_key(|s| s.name_any());

    for ((family, ports), endpoints) in desired {
        for chunk in slice_chunks(&endpoints) {
            let want = build_slice(&svc, &family, &ports, chunk);
            // Reuse a slice with the same ports so consumers see updates, not churn.
            let reuse = existing
                .iter()
                .position(|s| s.ports == want.ports && s.address_type == want.address_type);
            match reuse {
                Some(i) => {
                    let old = existing.remove(i);
                    if old.endpoints != want.endpoints
                        || old.metadata.labels != want.metadata.labels
                        || old.metadata.owner_references != want.metadata.owner_references
                    {
                        let mut new = want;
                        new.metadata.name = old.metadata.name.clone();
                        new.metadata.generate_name = None;
                        new.metadata.resource_version = old.metadata.resource_version.clone();
                        new.metadata.annotations = old.metadata.annotations.clone();
                        slices
                            .replace(&old.name_any(), &PostParams::default(), &new)
                            .await?;
                        tracing::debug!(slice = %old.name_any(), "updated EndpointSlice");
                    }
                }
                None => {
                    let created = slices.create(&PostParams::default(), &want).await?;
                    tracing::info!(slice = %created.name_any(), service = %svc.name_any(), "created EndpointSlice");
                }
            }
        }
    }
    for stale in existing {
        match slices
            .delete(&stale.name_any(), &DeleteParams::default())
            .await
        {
            Ok(_) => tracing::info!(slice = %stale.name_any(), "deleted stale EndpointSlice"),
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Action::await_change())
}

/// The endpoints of one port set cut into slices of at most
/// [`MAX_ENDPOINTS_PER_SLICE`]; no endpoints still make one (empty) slice.
pub fn slice_chunks(endpoints: &[Endpoint]) -> Vec<&[Endpoint]> {
    if endpoints.is_empty() {
        vec![&[]]
    } else {
        endpoints.chunks(MAX_ENDPOINTS_PER_SLICE).collect()
    }
}

/// Zones of the nodes the pods run on (nodes missing or unlabelled give none).
async fn node_zones(client: &Client, pods: &[Pod]) -> HashMap<String, String> {
    let nodes: Api<Node> = Api::all(client.clone());
    let mut zones = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for pod in pods {
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
            continue;
        };
        if !seen.insert(node.clone()) {
            continue;
        }
        if let Ok(Some(n)) = nodes.get_opt(&node).await {
            if let Some(z) = n.labels().get(ZONE_LABEL) {
                zones.insert(node, z.clone());
            }
        }
    }
    zones
}

/// The address types (`IPv4`, `IPv6`) a Service gets slices of, as upstream's
/// `getAddressTypesForService`: its `spec.ipFamilies`; for objects without them, the family of
/// its cluster IP; otherwise (headless without families) IPv4, as before dual-stack.
pub fn address_types(svc: &Service) -> Vec<String> {
    let Some(spec) = svc.spec.as_ref() else {
        return vec!["IPv4".into()];
    };
    let mut out: Vec<String> = Vec::new();
    for family in spec.ip_families.iter().flatten() {
        if (family == "IPv4" || family == "IPv6") && !out.contains(family) {
            out.push(family.clone());
        }
    }
    if !out.is_empty() {
        return out;
    }
    match spec
        .cluster_ip
        .as_deref()
        .map(str::parse::<std::net::IpAddr>)
    {
        Some(Ok(ip)) if ip.is_ipv6() => vec!["IPv6".into()],
        _ => vec!["IPv4".into()],
    }
}

/// One slice's identity before it has a name: its address type and resolved port set.
pub type SliceKey = (String, Vec<ResolvedPort>);

/// The endpoints of the selected pods grouped by address type and resolved port set (pods
/// differ when a named targetPort maps to different numbers). An address type with no
/// endpoint at all gets one empty group: upstream keeps a placeholder slice so consumers see
/// "no endpoints".
pub fn desired_groups(
    svc: &Service,
    pods: &[Pod],
    zones: &HashMap<String, String>,
) -> BTreeMap<SliceKey, Vec<Endpoint>> {
    let mut groups: BTreeMap<SliceKey, Vec<Endpoint>> = BTreeMap::new();
    for family in address_types(svc) {
        let mut any = false;
        for pod in pods {
            let ports = util::resolved_ports(svc, pod);
            if let Some(ep) = endpoint_for(svc, &family, pod, zones) {
                groups.entry((family.clone(), ports)).or_default().push(ep);
                any = true;
            }
        }
        if !any {
            groups.insert((family, Vec::new()), Vec::new());
        }
    }
    for eps in groups.values_mut() {
        eps.sort_by(|a, b| a.addresses.cmp(&b.addresses));
    }
    groups
}

/// One pod as an endpoint of address type `family` (`None` when the pod has no IP of that
/// family), with upstream's conditions: serving = pod Ready, terminating = being deleted,
/// ready = serving and not terminating; `publishNotReadyAddresses` makes both ready and
/// serving true.
pub fn endpoint_for(
    svc: &Service,
    family: &str,
    pod: &Pod,
    zones: &HashMap<String, String>,
) -> Option<Endpoint> {
    let ip = util::pod_ip_of_family(pod, family)?;
    let publish = util::publish_not_ready(svc);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let serving = publish || podutil::is_ready(pod);
    let ready = publish || (serving && !terminating);
    let node_name = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty());
    Some(Endpoint {
        addresses: vec![ip],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        hostname: pod_hostname(svc, pod),
        zone: node_name.as_ref().and_then(|n| zones.get(n).cloned()),
        node_name,
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            name: pod.metadata.name.clone(),
            namespace: pod.metadata.namespace.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The pod's hostname when it names itself under this Service (`spec.subdomain` equal to
/// the Service name), so DNS can publish `<hostname>.<svc>`.
pub fn pod_hostname(svc: &Service, pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let hostname = spec.hostname.clone().filter(|h| !h.is_empty())?;
    (spec.subdomain.as_deref() == svc.metadata.name.as_deref()
        && pod.metadata.namespace == svc.metadata.namespace)
        .then_some(hostname)
}

/// The slice we want for one chunk of address type `family`: generateName `<svc>-`, our
/// labels, owned by the Service.
pub fn build_slice(
    svc: &Service,
    family: &str,
    ports: &[ResolvedPort],
    endpoints: &[Endpoint],
) -> EndpointSlice {
    let mut labels = util::inherited_labels(svc, &[LABEL_SERVICE_NAME, LABEL_MANAGED_BY]);
    labels.insert(LABEL_SERVICE_NAME.into(), svc.name_any());
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", svc.name_any())),
            namespace: svc.namespace(),
            labels: Some(labels),
            owner_references: Some(vec![podutil::controller_ref(
                "v1",
                "Service",
                &svc.name_any(),
                &svc.uid().unwrap_or_default(),
            )]),
            ..Default::default()
        },
        address_type: family.into(),
        endpoints: endpoints.to_vec(),
        ports: Some(
            ports
                .iter()
                .map(|(name, port, protocol)| EndpointPort {
                    name: Some(name.clone()),
                    port: Some(*port),
                    protocol: Some(protocol.clone()),
                    app_protocol: None,
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        Container, ContainerPort, PodCondition, PodIP, PodSpec, PodStatus, ServicePort, ServiceSpec,
    };
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn service(publish: bool) -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                uid: Some("svc-uid".into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "web".to_string())].into()),
                publish_not_ready_addresses: Some(publish),
                ports: Some(vec![ServicePort {
                    name: Some("web".into()),
                    port: 80,
                    target_port: Some(IntOrString::String("http".into())),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn pod(name: &str, ip: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![ContainerPort {
                        name: Some("http".into()),
                        container_port: 8080,
                        ..Default::default()
                    }]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                pod_ips: Some(vec![PodIP { ip: ip.into() }]),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    fn conditions(ep: &Endpoint) -> (Option<bool>, Option<bool>, Option<bool>) {
        let c = ep.conditions.clone().unwrap_or_default();
        (c.ready, c.serving, c.terminating)
    }

    #[test]
    fn ready_and_not_ready_pods_share_a_slice_with_resolved_port() {
        let pods = [pod("a", "10.0.0.1", true), pod("b", "10.0.0.2", false)];
        let groups = desired_groups(&service(false), &pods, &HashMap::new());
        assert_eq!(groups.len(), 1);
        let ((family, ports), eps) = groups.iter().next().expect("one group");
        assert_eq!(family, "IPv4");
        assert_eq!(ports, &vec![("web".to_string(), 8080, "TCP".to_string())]);
        assert_eq!(conditions(&eps[0]), (Some(true), Some(true), Some(false)));
        assert_eq!(conditions(&eps[1]), (Some(false), Some(false), Some(false)));
        assert_eq!(
            eps[0].target_ref.as_ref().and_then(|r| r.name.as_deref()),
            Some("a")
        );
    }

    fn dual_pod(name: &str, v4: &str, v6: &str) -> Pod {
        let mut p = pod(name, v4, true);
        if let Some(st) = p.status.as_mut() {
            st.pod_ip = Some(v4.into());
            st.pod_ips = Some(vec![PodIP { ip: v4.into() }, PodIP { ip: v6.into() }]);
        }
        p
    }

    #[test]
    fn dual_stack_service_gets_a_slice_per_family_from_pod_ips() {
        let mut svc = service(false);
        if let Some(spec) = svc.spec.as_mut() {
            spec.ip_families = Some(vec!["IPv4".into(), "IPv6".into()]);
        }
        let pods = [
            dual_pod("a", "10.0.0.1", "fd00::1"),
            pod("v4only", "10.0.0.2", true),
        ];
        let groups = desired_groups(&svc, &pods, &HashMap::new());
        let addrs = |family: &str| -> Vec<String> {
            groups
                .iter()
                .filter(|((f, _), _)| f == family)
                .flat_map(|(_, eps)| eps.iter().flat_map(|e| e.addresses.clone()))
                .collect()
        };
        assert_eq!(addrs("IPv4"), vec!["10.0.0.1", "10.0.0.2"]);
        assert_eq!(addrs("IPv6"), vec!["fd00::1"]);
        let ((family, ports), eps) = groups
            .iter()
            .find(|((f, _), _)| f == "IPv6")
            .expect("IPv6 group");
        let slice = build_slice(&svc, family, ports, eps);
        assert_eq!(slice.address_type, "IPv6");

        // IPv6 only: the IPv4 addresses are not endpoints, and a pod without an IPv6
        // address leaves a placeholder.
        if let Some(spec) = svc.spec.as_mut() {
            spec.ip_families = Some(vec!["IPv6".into()]);
        }
        let groups = desired_groups(&svc, &pods[1..], &HashMap::new());
        assert_eq!(groups.len(), 1);
        let ((family, _), eps) = groups.iter().next().expect("placeholder");
        assert_eq!((family.as_str(), eps.len()), ("IPv6", 0));
    }

    #[test]
    fn address_types_follow_ip_families_then_the_cluster_ip() {
        let mut svc = service(false);
        assert_eq!(
            address_types(&svc),
            vec!["IPv4"],
            "legacy objects stay IPv4"
        );
        if let Some(spec) = svc.spec.as_mut() {
            spec.cluster_ip = Some("fd00:96::1".into());
        }
        assert_eq!(address_types(&svc), vec!["IPv6"]);
        if let Some(spec) = svc.spec.as_mut() {
            spec.ip_families = Some(vec!["IPv6".into(), "IPv4".into()]);
        }
        assert_eq!(address_types(&svc), vec!["IPv6", "IPv4"]);
    }

    #[test]
    fn slices_hold_at_most_100_endpoints() {
        let pods: Vec<Pod> = (0..250)
            .map(|i| {
                pod(
                    &format!("p{i}"),
                    &format!("10.0.{}.{}", i / 200, i % 200),
                    true,
                )
            })
            .collect();
        let groups = desired_groups(&service(false), &pods, &HashMap::new());
        let eps = groups.values().next().expect("one group");
        let sizes: Vec<usize> = slice_chunks(eps).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        assert_eq!(slice_chunks(&[]).len(), 1);
    }

    #[test]
    fn terminating_ready_pod_is_serving_but_not_ready() {
        let mut p = pod("a", "10.0.0.1", true);
        p.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            Default::default(),
        ));
        let ep = endpoint_for(&service(false), "IPv4", &p, &HashMap::new()).expect("endpoint");
        assert_eq!(conditions(&ep), (Some(false), Some(true), Some(true)));
    }

    #[test]
    fn publish_not_ready_addresses_marks_everything_ready() {
        let ep = endpoint_for(
            &service(true),
            "IPv4",
            &pod("b", "10.0.0.2", false),
            &HashMap::new(),
        )
        .expect("endpoint");
        assert_eq!(conditions(&ep), (Some(true), Some(true), Some(false)));
    }

    #[test]
    fn no_pods_gives_one_placeholder_group_and_slices_are_labelled_and_owned() {
        let svc = service(false);
        let groups = desired_groups(&svc, &[], &HashMap::new());
        assert_eq!(groups.len(), 1);
        assert_eq!(groups.keys().next().map(|k| k.0.as_str()), Some("IPv4"));
        let slice = build_slice(&svc, "IPv4", &[], &[]);
        assert_eq!(slice.address_type, "IPv4");
        assert_eq!(slice.metadata.generate_name.as_deref(), Some("web-"));
        let labels = slice.metadata.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get(LABEL_SERVICE_NAME).map(String::as_str),
            Some("web")
        );
        assert_eq!(
            labels.get(LABEL_MANAGED_BY).map(String::as_str),
            Some(CONTROLLER_NAME)
        );
        let owner = podutil::controller_of(&slice.metadata).expect("owner");
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("Service", "svc-uid")
        );
    }
}
