//! The service-lb controller against a real apiserver and etcd: LoadBalancer Services get
//! addresses from `--service-lb-pool`, without duplicates, across restarts.

use anyhow::Result;
use integration_tests::controller_manager::{
    get_ok, merge_patch_ok, post_ok, start_controller_manager,
};
use integration_tests::TestCluster;
use serde_json::{json, Value};

const SERVICES: &str = "/api/v1/namespaces/default/services";
const POOL: &str = "--service-lb-pool=127.240.7.10-127.240.7.12";

fn lb_service(name: &str, extra: Value) -> Value {
    let mut spec = json!({"type": "LoadBalancer", "selector": {"app": name},
                          "ports": [{"port": 80, "targetPort": 8080}]});
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
}

fn ingress_ip(svc: &Value) -> Option<String> {
    svc["status"]["loadBalancer"]["ingress"][0]["ip"]
        .as_str()
        .map(str::to_string)
}

async fn ip_of(cluster: &TestCluster, name: &str) -> Result<Option<String>> {
    Ok(ingress_ip(
        &get_ok(cluster, &format!("{SERVICES}/{name}")).await?,
    ))
}

#[tokio::test]
async fn load_balancers_get_unique_pool_addresses_that_survive_restarts() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let mut cm = start_controller_manager(&cluster, &["--controllers=service-lb", POOL])?;
    post_ok(&cluster, SERVICES, &lb_service("a", json!({}))).await?;
    post_ok(&cluster, SERVICES, &lb_service("b", json!({}))).await?;
    // Another implementation's class: not ours to touch.
    post_ok(
        &cluster,
        SERVICES,
        &lb_service(
            "foreign",
            json!({"loadBalancerClass": "example.com/other-lb"}),
        ),
    )
    .await?;
    let (a, b) = cm
        .eventually("addresses for a and b", || async {
            Ok(
                match (ip_of(&cluster, "a").await?, ip_of(&cluster, "b").await?) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                },
            )
        })
        .await?;
    assert_ne!(a, b);
    let pool = ["127.240.7.10", "127.240.7.11", "127.240.7.12"];
    assert!(
        pool.contains(&a.as_str()) && pool.contains(&b.as_str()),
        "{a} {b}"
    );
    let sa = get_ok(&cluster, &format!("{SERVICES}/a")).await?;
    assert_eq!(sa["status"]["loadBalancer"]["ingress"][0]["ipMode"], "VIP");
    assert!(sa["metadata"]["finalizers"].as_array().is_some_and(|f| f
        .iter()
        .any(|x| x == "service.kubernetes.io/load-balancer-cleanup")));

    // Restart: allocations come back from the Services themselves; a new Service gets
    // the one address left, never one already held.
    cm.kill();
    let cm = start_controller_manager(&cluster, &["--controllers=service-lb", POOL])?;
    post_ok(&cluster, SERVICES, &lb_service("c", json!({}))).await?;
    let c = cm
        .eventually("an address for c", || async { ip_of(&cluster, "c").await })
        .await?;
    let mut all = vec![a.clone(), b.clone(), c.clone()];
    all.sort();
    assert_eq!(all, pool);
    assert_eq!(ip_of(&cluster, "a").await?, Some(a.clone()));
    assert_eq!(ip_of(&cluster, "b").await?, Some(b.clone()));

    // Pool exhausted: d waits. Deleting a frees its address for d.
    post_ok(&cluster, SERVICES, &lb_service("d", json!({}))).await?;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(ip_of(&cluster, "d").await?, None);
    let (code, body) = cluster.delete(&format!("{SERVICES}/a")).await?;
    anyhow::ensure!(code.is_success(), "delete a: {code} {body}");
    cm.eventually("a gone (finalizer released)", || async {
        let (code, _) = cluster.get_json(&format!("{SERVICES}/a")).await?;
        Ok((code.as_u16() == 404).then_some(()))
    })
    .await?;
    let d = cm
        .eventually("d gets a's old address", || async {
            ip_of(&cluster, "d").await
        })
        .await?;
    assert_eq!(d, a);

    // Type change to ClusterIP: the address and the finalizer go.
    merge_patch_ok(
        &cluster,
        &format!("{SERVICES}/b"),
        // Upstream's apiserver drops the type-dependent fields itself (dropTypeDependentFields);
        // ours wants them cleared explicitly.
        &json!({"spec": {"type": "ClusterIP", "externalTrafficPolicy": null,
            "allocateLoadBalancerNodePorts": null,
            "ports": [{"port": 80, "targetPort": 8080}]}}),
    )
    .await?;
    cm.eventually("b's address released", || async {
        let s = get_ok(&cluster, &format!("{SERVICES}/b")).await?;
        let no_finalizer = !s["metadata"]["finalizers"].as_array().is_some_and(|f| {
            f.iter()
                .any(|x| x == "service.kubernetes.io/load-balancer-cleanup")
        });
        Ok((ingress_ip(&s).is_none() && no_finalizer).then_some(()))
    })
    .await?;
    assert_eq!(ip_of(&cluster, "foreign").await?, None);
    Ok(())
}

#[tokio::test]
async fn requested_load_balancer_ip_is_honoured_when_in_pool_and_free() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let cm = start_controller_manager(&cluster, &["--controllers=service-lb", POOL])?;
    post_ok(
        &cluster,
        SERVICES,
        &lb_service("want", json!({"loadBalancerIP": "127.240.7.12"})),
    )
    .await?;
    let got = cm
        .eventually("the requested address", || async {
            ip_of(&cluster, "want").await
        })
        .await?;
    assert_eq!(got, "127.240.7.12");
    post_ok(&cluster, SERVICES, &lb_service("plain", json!({}))).await?;
    let plain = cm
        .eventually("an address for plain", || async {
            ip_of(&cluster, "plain").await
        })
        .await?;
    assert_eq!(plain, "127.240.7.10");
    Ok(())
}
