//! The Endpoints controller (upstream `pkg/controller/endpoint`): the legacy core/v1
//! `Endpoints` object named after each Service with a selector, its subsets listing ready
//! pods in `addresses` and the others in `notReadyAddresses`, grouped by resolved ports.
//!
//! `default/kubernetes` is skipped: the apiserver maintains it. Upstream's truncation at
//! 1000 addresses (`endpoints.kubernetes.io/over-capacity`) is not built.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Client, ResourceExt};

use super::endpoint_util::{self as util, ResolvedPort};
use super::endpointslice::pod_hostname;
use super::podutil;

/// Label upstream (v1.33) puts on the Endpoints it manages.
pub const LABEL_MANAGED_BY: &str = "endpoints.kubernetes.io/managed-by";
/// Our value of [`LABEL_MANAGED_BY`].
pub const CONTROLLER_NAME: &str = "endpoint-controller";

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
    let client_for_cleanup = client.clone();
    // Endpoints share their Service's name: a change by someone else requeues it.
    let endpoints: Api<Endpoints> = Api::all(client.clone());
    let controller =
        util::service_controller(client).watches(endpoints, Default::default(), |ep: Endpoints| {
            let ns = ep.namespace().unwrap_or_default();
            Some(ObjectRef::new(&ep.name_any()).within(&ns))
        });
    // Endpoints carry no ownerReference (as upstream), so the controller deletes them
    // when their Service is gone; only ours, so hand-written ones are never touched.
    let api_client = client_for_cleanup.clone();
    // The controller is triggered by applied Services only, so deletions are watched
    // separately.
    tokio::spawn(delete_on_service_deletion(client_for_cleanup));
    util::run(controller, "endpoints", ctx, reconcile, move |ns, name| {
        let api: Api<Endpoints> = Api::namespaced(api_client.clone(), &ns);
        async move { delete_orphan(&api, &name).await }
    })
    .await;
}

async fn reconcile(svc: Arc<Service>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = svc.namespace().ok_or(Error::NoNamespace)?;
    let name = svc.name_any();
    if (ns == "default" && name == "kubernetes")
        || svc.metadata.deletion_timestamp.is_some()
        || !util::has_selector(&svc)
    {
        return Ok(Action::await_change());
    }
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let selected: Vec<Pod> = pods
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|p| util::selects(&svc, p))
        .collect();
    let want = desired_endpoints(&svc, &selected);
    let api: Api<Endpoints> = Api::namespaced(ctx.client.clone(), &ns);
    match api.get_opt(&name).await? {
        None => {
            match api.create(&PostParams::default(), &want).await {
                Ok(_) => tracing::info!(service = %name, "created Endpoints"),
                // Created meanwhile (by us or a user); the next event syncs it.
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Some(old) => {
            if old.subsets.clone().unwrap_or_default() != want.subsets.clone().unwrap_or_default()
                || old.metadata.labels != want.metadata.labels
            {
                let mut new = want;
                new.metadata.resource_version = old.metadata.resource_version.clone();
                new.metadata.annotations = old.metadata.annotations.clone();
                api.replace(&name, &PostParams::default(), &new).await?;
                tracing::debug!(service = %name, "updated Endpoints");
            }
        }
    }
    Ok(Action::await_change())
}

/// Delete our Endpoints whenever a Service is deleted.
async fn delete_on_service_deletion(client: Client) {
    let services: Api<Service> = Api::all(client.clone());
    let events = kube::runtime::watcher(services, Default::default());
    futures::pin_mut!(events);
    while let Some(event) = events.next().await {
        if let Ok(kube::runtime::watcher::Event::Delete(svc)) = event {
            let ns = svc.namespace().unwrap_or_default();
            let api: Api<Endpoints> = Api::namespaced(client.clone(), &ns);
            delete_orphan(&api, &svc.name_any()).await;
        }
    }
}

/// Delete the Endpoints `name` of a Service that no longer exists, if we manage it.
async fn delete_orphan(api: &Api<Endpoints>, name: &str) {
    let ours = match api.get_opt(name).await {
        Ok(Some(ep)) => {
            ep.labels().get(LABEL_MANAGED_BY).map(String::as_str) == Some(CONTROLLER_NAME)
        }
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(endpoints = %name, error = %e, "reading Endpoints of a deleted Service");
            false
        }
    };
    if !ours {
        return;
    }
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => tracing::info!(endpoints = %name, "deleted Endpoints of a deleted Service"),
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => tracing::warn!(endpoints = %name, error = %e, "deleting Endpoints"),
    }
}

/// The Endpoints object for a Service and the pods it selects.
pub fn desired_endpoints(svc: &Service, pods: &[Pod]) -> Endpoints {
    let mut labels = util::inherited_labels(svc, &[LABEL_MANAGED_BY]);
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    Endpoints {
        metadata: ObjectMeta {
            name: svc.metadata.name.clone(),
            namespace: svc.metadata.namespace.clone(),
            labels: Some(labels),
            ..Default::default()
        },
        subsets: Some(subsets(svc, pods)),
    }
}

/// Subsets, one per distinct resolved port set. Terminating pods are left out unless the
/// Service publishes not-ready addresses, as upstream.
pub fn subsets(svc: &Service, pods: &[Pod]) -> Vec<EndpointSubset> {
    let publish = util::publish_not_ready(svc);
    let mut groups: BTreeMap<Vec<ResolvedPort>, (Vec<EndpointAddress>, Vec<EndpointAddress>)> =
        BTreeMap::new();
    let has_ports = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .is_some_and(|p| !p.is_empty());
    // Endpoints carry one family: the Service's primary one (upstream picks the pod IP
    // matching spec.ipFamilies[0], else the cluster IP's family).
    let family = super::endpointslice::address_types(svc)
        .into_iter()
        .next()
        .unwrap_or_else(|| "IPv4".into());
    for pod in pods {
        if !util::should_be_endpoint(pod, publish) {
            continue;
        }
        let Some(ip) = util::pod_ip_of_family(pod, &family) else {
            continue;
        };
        let ports = util::resolved_ports(svc, pod);
        // A pod none of whose ports resolve serves nothing (headless port-less
        // Services still list their pods).
        if has_ports && ports.is_empty() {
            continue;
        }
        let address = EndpointAddress {
            ip,
            hostname: pod_hostname(svc, pod),
            node_name: pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .filter(|n| !n.is_empty()),
            target_ref: Some(ObjectReference {
                kind: Some("Pod".into()),
                name: pod.metadata.name.clone(),
                namespace: pod.metadata.namespace.clone(),
                uid: pod.metadata.uid.clone(),
                ..Default::default()
            }),
        };
        let entry = groups.entry(ports).or_default();
        if publish || podutil::is_ready(pod) {
            entry.0.push(address);
        } else {
            entry.1.push(address);
        }
    }
    groups
        .into_iter()
        .map(|(ports, (mut ready, mut not_ready))| {
            ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            not_ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!ports.is_empty()).then(|| {
                    ports
                        .into_iter()
                        .map(|(name, port, protocol)| EndpointPort {
                            name: (!name.is_empty()).then_some(name),
                            port,
                            protocol: Some(protocol),
                            app_protocol: None,
                        })
                        .collect()
                }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        Container, ContainerPort, PodCondition, PodIP, PodSpec, PodStatus, ServicePort, ServiceSpec,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn service(headless: bool) -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                labels: Some([("team".to_string(), "a".to_string())].into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                selector: Some([("app".to_string(), "web".to_string())].into()),
                cluster_ip: headless.then(|| "None".to_string()),
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
                node_name: Some("n1".into()),
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

    #[test]
    fn ready_pods_are_addresses_and_others_not_ready_addresses() {
        let subs = subsets(
            &service(false),
            &[pod("a", "10.0.0.1", true), pod("b", "10.0.0.2", false)],
        );
        assert_eq!(subs.len(), 1);
        let s = &subs[0];
        let ips = |v: &Option<Vec<EndpointAddress>>| {
            v.iter().flatten().map(|a| a.ip.clone()).collect::<Vec<_>>()
        };
        assert_eq!(ips(&s.addresses), vec!["10.0.0.1"]);
        assert_eq!(ips(&s.not_ready_addresses), vec!["10.0.0.2"]);
        let port = &s.ports.as_ref().expect("ports")[0];
        assert_eq!((port.name.as_deref(), port.port), (Some("web"), 8080));
        let a = &s.addresses.as_ref().expect("addresses")[0];
        assert_eq!(a.node_name.as_deref(), Some("n1"));
    }

    #[test]
    fn addresses_are_of_the_service_primary_family() {
        let mut dual = pod("a", "fd00:10:244::5", true);
        if let Some(status) = dual.status.as_mut() {
            status.pod_ips = Some(vec![
                PodIP {
                    ip: "10.0.0.5".into(),
                },
                PodIP {
                    ip: "fd00:10:244::5".into(),
                },
            ]);
        }
        let ips = |svc: &Service| -> Vec<String> {
            subsets(svc, std::slice::from_ref(&dual))
                .iter()
                .flat_map(|s| s.addresses.iter().flatten())
                .map(|a| a.ip.clone())
                .collect()
        };
        assert_eq!(ips(&service(false)), vec!["10.0.0.5"]);
        let mut v6_first = service(false);
        if let Some(spec) = v6_first.spec.as_mut() {
            spec.ip_families = Some(vec!["IPv6".into(), "IPv4".into()]);
        }
        assert_eq!(ips(&v6_first), vec!["fd00:10:244::5"]);
    }

    #[test]
    fn terminating_pods_are_left_out() {
        let mut p = pod("a", "10.0.0.1", true);
        p.metadata.deletion_timestamp = Some(Time(Default::default()));
        assert!(subsets(&service(false), &[p]).is_empty());
    }

    #[test]
    fn labels_copy_the_service_and_mark_headless() {
        let ep = desired_endpoints(&service(true), &[]);
        let labels = ep.metadata.labels.unwrap_or_default();
        assert_eq!(labels.get("team").map(String::as_str), Some("a"));
        assert_eq!(
            labels.get(util::HEADLESS_LABEL).map(String::as_str),
            Some("")
        );
        assert_eq!(
            labels.get(LABEL_MANAGED_BY).map(String::as_str),
            Some(CONTROLLER_NAME)
        );
        assert_eq!(ep.subsets, Some(vec![]));
    }
}
