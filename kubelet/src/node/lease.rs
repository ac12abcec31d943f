//! Node heartbeats: a Lease named after the node in `kube-node-lease`, renewed every 10 s,
//! which the node lifecycle controller reads to tell a live node from a dead one.
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, OwnerReference};
use kube::api::{ObjectMeta, PostParams};
use kube::Api;

pub const NAMESPACE: &str = "kube-node-lease";
/// Upstream's lease duration for node leases.
const LEASE_DURATION_SECONDS: i32 = 40;
pub const RENEW_INTERVAL: Duration = Duration::from_secs(10);

/// Renews (or creates) the node's Lease once.
pub async fn renew(
    client: &kube::Client,
    node_name: &str,
    node_uid: Option<&str>,
) -> kube::Result<()> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), NAMESPACE);
    let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
    match leases.get_opt(node_name).await? {
        Some(mut lease) => {
            let spec = lease.spec.get_or_insert_with(Default::default);
            spec.renew_time = Some(now);
            spec.holder_identity = Some(node_name.into());
            spec.lease_duration_seconds = Some(LEASE_DURATION_SECONDS);
            leases
                .replace(node_name, &PostParams::default(), &lease)
                .await?;
        }
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(node_name.into()),
                    namespace: Some(NAMESPACE.into()),
                    // Owned by the Node, so deleting the Node deletes its Lease.
                    owner_references: node_uid.map(|uid| {
                        vec![OwnerReference {
                            api_version: "v1".into(),
                            kind: "Node".into(),
                            name: node_name.into(),
                            uid: uid.into(),
                            ..Default::default()
                        }]
                    }),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(node_name.into()),
                    lease_duration_seconds: Some(LEASE_DURATION_SECONDS),
                    renew_time: Some(now),
                    ..Default::default()
                }),
            };
            leases.create(&PostParams::default(), &lease).await?;
        }
    }
    Ok(())
}
