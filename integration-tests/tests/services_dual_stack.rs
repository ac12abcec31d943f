//! Dual-stack Services against a real apiserver and etcd: `--service-cluster-ip-range` with
//! an IPv4 and an IPv6 CIDR, `ipFamilyPolicy` / `ipFamilies` / `clusterIPs` as upstream
//! settles them, upgrade and downgrade on update, addresses (IPAddress objects) freed on
//! downgrade and delete, headless Services, and the real kubectl on such a cluster.

use anyhow::{bail, Result};
use integration_tests::{status_of, TestCluster};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SVCS: &str = "/api/v1/namespaces/default/services";
const DUAL: &str = "--service-cluster-ip-range=10.96.0.0/12,fd00:10:96::/108";

fn service(name: &str, spec: Value) -> Value {
    let mut s = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": { "name": name },
        "spec": { "selector": { "app": name }, "ports": [{ "port": 80 }] }
    });
    for (k, v) in spec.as_object().expect("spec object") {
        s["spec"][k] = v.clone();
    }
    s
}

fn spec_list(svc: &Value, field: &str) -> Vec<String> {
    svc["spec"][field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

async fn create(cluster: &TestCluster, name: &str, spec: Value) -> Result<Value> {
    let (status, body) = cluster.post_json(SVCS, &service(name, spec)).await?;
    if status != StatusCode::CREATED {
        bail!("creating {name}: {status} {body}");
    }
    Ok(body)
}

/// The single field cause of a 422, as `field: message`.
fn invalid_cause(body: &Value) -> (String, String) {
    assert_eq!(status_of(body), Some((422, "Invalid".into())), "{body}");
    let cause = &body["details"]["causes"][0];
    (
        cause["field"].as_str().unwrap_or_default().to_string(),
        body["message"].as_str().unwrap_or_default().to_string(),
    )
}

async fn ip_address_exists(cluster: &TestCluster, ip: &str) -> Result<bool> {
    let (status, body) = cluster
        .get_json(&format!("/apis/networking.k8s.io/v1/ipaddresses/{ip}"))
        .await?;
    match status {
        StatusCode::OK => {
            assert_eq!(body["spec"]["parentRef"]["resource"], "services");
            Ok(true)
        }
        StatusCode::NOT_FOUND => Ok(false),
        other => bail!("GET ipaddress {ip}: {other} {body}"),
    }
}

#[tokio::test]
async fn each_policy_gets_the_families_upstream_gives() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[DUAL]).await?;

    let single = create(&cluster, "single", json!({})).await?;
    assert_eq!(single["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(spec_list(&single, "ipFamilies"), ["IPv4"]);
    assert_eq!(spec_list(&single, "clusterIPs").len(), 1);

    let prefer = create(
        &cluster,
        "prefer",
        json!({"ipFamilyPolicy": "PreferDualStack"}),
    )
    .await?;
    assert_eq!(spec_list(&prefer, "ipFamilies"), ["IPv4", "IPv6"]);
    let ips = spec_list(&prefer, "clusterIPs");
    assert_eq!(ips.len(), 2, "{prefer}");
    assert!(ips[0].starts_with("10."), "{ips:?}");
    assert!(ips[1].starts_with("fd00:10:96::"), "{ips:?}");
    assert_eq!(prefer["spec"]["clusterIP"], ips[0].as_str());
    for ip in &ips {
        assert!(ip_address_exists(&cluster, ip).await?, "IPAddress {ip}");
    }

    // The secondary family first: the primary address is then the IPv6 one.
    let require = create(
        &cluster,
        "require",
        json!({"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6"]}),
    )
    .await?;
    assert_eq!(spec_list(&require, "ipFamilies"), ["IPv6", "IPv4"]);
    let ips = spec_list(&require, "clusterIPs");
    assert!(ips[0].contains(':') && !ips[1].contains(':'), "{ips:?}");
    assert_eq!(require["spec"]["clusterIP"], ips[0].as_str());

    // Only IPv6, single-stack.
    let v6 = create(&cluster, "v6only", json!({"ipFamilies": ["IPv6"]})).await?;
    assert_eq!(spec_list(&v6, "ipFamilies"), ["IPv6"]);
    assert_eq!(v6["spec"]["ipFamilyPolicy"], "SingleStack");

    // SingleStack with two families is refused, as upstream words it.
    let (status, body) = cluster
        .post_json(
            SVCS,
            &service(
                "bad",
                json!({"ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4", "IPv6"]}),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (field, message) = invalid_cause(&body);
    assert_eq!(field, "spec.ipFamilyPolicy");
    assert!(
        message.contains("must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"),
        "{message}"
    );

    // The kubernetes Service keeps its single primary address.
    let (_, k) = cluster.get_json(&format!("{SVCS}/kubernetes")).await?;
    assert_eq!(spec_list(&k, "clusterIPs"), ["10.96.0.1"]);
    assert_eq!(spec_list(&k, "ipFamilies"), ["IPv4"]);
    // The default ServiceCIDR lists both ranges, the primary first.
    let (_, cidr) = cluster
        .get_json("/apis/networking.k8s.io/v1/servicecidrs/kubernetes")
        .await?;
    assert_eq!(
        cidr["spec"]["cidrs"],
        json!(["10.96.0.0/12", "fd00:10:96::/108"]),
        "{cidr}"
    );
    Ok(())
}

#[tokio::test]
async fn require_dual_stack_on_a_single_stack_cluster_is_refused() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let (status, body) = cluster
        .post_json(
            SVCS,
            &service("dual", json!({"ipFamilyPolicy": "RequireDualStack"})),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (field, message) = invalid_cause(&body);
    assert_eq!(field, "spec.ipFamilyPolicy");
    assert_eq!(
        message,
        "Service \"dual\" is invalid: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services"
    );
    // PreferDualStack falls back to the one family there is.
    let prefer = create(
        &cluster,
        "prefer",
        json!({"ipFamilyPolicy": "PreferDualStack"}),
    )
    .await?;
    assert_eq!(spec_list(&prefer, "ipFamilies"), ["IPv4"]);
    // An IPv6 address names a family the cluster does not have.
    let (status, body) = cluster
        .post_json(SVCS, &service("v6", json!({"clusterIP": "fd00::10"})))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (field, message) = invalid_cause(&body);
    assert_eq!(field, "spec.clusterIPs[0]");
    assert!(
        message.ends_with("IPv6 is not configured on this cluster"),
        "{message}"
    );
    // Nothing was half-written.
    let (status, _) = cluster.get_json(&format!("{SVCS}/dual")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn explicit_ipv6_addresses_duplicates_and_reuse_after_delete() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[DUAL]).await?;
    let v6 = create(&cluster, "v6", json!({"clusterIP": "fd00:10:96::50"})).await?;
    assert_eq!(spec_list(&v6, "clusterIPs"), ["fd00:10:96::50"]);
    assert_eq!(spec_list(&v6, "ipFamilies"), ["IPv6"]);
    assert_eq!(v6["spec"]["ipFamilyPolicy"], "SingleStack");

    let (status, body) = cluster
        .post_json(
            SVCS,
            &service("clash", json!({"clusterIP": "fd00:10:96::50"})),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (field, message) = invalid_cause(&body);
    assert_eq!(field, "spec.clusterIPs");
    assert!(
        message.ends_with("failed to allocate IP fd00:10:96::50: provided IP is already allocated"),
        "{message}"
    );

    // Both addresses named; the second is taken, so the first must not stay claimed.
    let both = json!({"clusterIP": "10.96.0.70", "clusterIPs": ["10.96.0.70", "fd00:10:96::50"],
        "ipFamilyPolicy": "RequireDualStack"});
    let (status, body) = cluster
        .post_json(SVCS, &service("pair", both.clone()))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        !ip_address_exists(&cluster, "10.96.0.70").await?,
        "failed create left its IPv4 address"
    );

    // Delete frees the IPv6 address; then both can be had.
    let (status, _) = cluster.delete(&format!("{SVCS}/v6")).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(!ip_address_exists(&cluster, "fd00:10:96::50").await?);
    let pair = create(&cluster, "pair", both.clone()).await?;
    assert_eq!(
        spec_list(&pair, "clusterIPs"),
        ["10.96.0.70", "fd00:10:96::50"]
    );
    assert_eq!(spec_list(&pair, "ipFamilies"), ["IPv4", "IPv6"]);

    // Deleting the dual-stack Service frees both; a new one may take them again.
    let (status, _) = cluster.delete(&format!("{SVCS}/pair")).await?;
    assert_eq!(status, StatusCode::OK);
    for ip in ["10.96.0.70", "fd00:10:96::50"] {
        assert!(!ip_address_exists(&cluster, ip).await?, "{ip} still held");
    }
    create(&cluster, "pair2", both).await?;

    // An address outside the range is refused.
    let (status, body) = cluster
        .post_json(SVCS, &service("far", json!({"clusterIP": "fd00:99::1"})))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        invalid_cause(&body).1.contains("is not in the valid range"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn upgrade_and_downgrade_on_update() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[DUAL]).await?;
    let path = format!("{SVCS}/web");
    let svc = create(&cluster, "web", json!({})).await?;
    let primary = spec_list(&svc, "clusterIPs")[0].clone();

    // Upgrade: only the policy changes; the secondary family and address are added.
    let (status, up) = cluster
        .patch_json(
            &path,
            "application/merge-patch+json",
            &json!({"spec": {"ipFamilyPolicy": "RequireDualStack"}}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{up}");
    let ips = spec_list(&up, "clusterIPs");
    assert_eq!(ips.len(), 2, "{up}");
    assert_eq!(ips[0], primary, "primary address kept");
    assert_eq!(spec_list(&up, "ipFamilies"), ["IPv4", "IPv6"]);
    let secondary = ips[1].clone();
    assert!(ip_address_exists(&cluster, &secondary).await?);

    // Dropping the secondary address without SingleStack is refused.
    let (status, body) = cluster
        .patch_json(
            &path,
            "application/merge-patch+json",
            &json!({"spec": {"clusterIPs": [primary]}}),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"].as_str().unwrap_or_default().contains("spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": must be set to 'SingleStack' when releasing the secondary clusterIP"),
        "{body}"
    );

    // The primary address may not change.
    let (status, body) = cluster
        .patch_json(
            &path,
            "application/merge-patch+json",
            &json!({"spec": {"clusterIP": "10.96.0.99", "clusterIPs": ["10.96.0.99", secondary]}}),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(invalid_cause(&body).0, "spec.clusterIPs[0]");

    // A full PUT that leaves the addresses and policy out keeps them.
    let (_, cur) = cluster.get_json(&path).await?;
    let mut put = cur.clone();
    for f in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
        put["spec"].as_object_mut().expect("spec").remove(f);
    }
    let (status, kept) = cluster.put_json(&path, &put).await?;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(
        spec_list(&kept, "clusterIPs"),
        [primary.clone(), secondary.clone()]
    );
    assert_eq!(kept["spec"]["ipFamilyPolicy"], "RequireDualStack");

    // Downgrade: SingleStack releases the secondary address.
    let (status, down) = cluster
        .patch_json(
            &path,
            "application/merge-patch+json",
            &json!({"spec": {"ipFamilyPolicy": "SingleStack"}}),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{down}");
    assert_eq!(spec_list(&down, "clusterIPs"), [primary]);
    assert_eq!(spec_list(&down, "ipFamilies"), ["IPv4"]);
    assert!(
        !ip_address_exists(&cluster, &secondary).await?,
        "secondary still held"
    );
    // ... so another Service can have it.
    let other = create(&cluster, "other", json!({"clusterIP": secondary})).await?;
    assert_eq!(spec_list(&other, "ipFamilies"), ["IPv6"]);
    Ok(())
}

#[tokio::test]
async fn headless_services_get_families_by_upstream_rules() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[DUAL]).await?;
    let with_selector = create(&cluster, "hl", json!({"clusterIP": "None"})).await?;
    assert_eq!(spec_list(&with_selector, "clusterIPs"), ["None"]);
    assert_eq!(with_selector["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(spec_list(&with_selector, "ipFamilies"), ["IPv4"]);

    let prefer = create(
        &cluster,
        "hl-dual",
        json!({"clusterIP": "None", "ipFamilyPolicy": "PreferDualStack"}),
    )
    .await?;
    assert_eq!(spec_list(&prefer, "ipFamilies"), ["IPv4", "IPv6"]);
    assert_eq!(spec_list(&prefer, "clusterIPs"), ["None"]);

    // Headless without a selector defaults to RequireDualStack with both families.
    let mut bare = service("hl-bare", json!({"clusterIP": "None"}));
    bare["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("selector");
    let (status, bare) = cluster.post_json(SVCS, &bare).await?;
    assert_eq!(status, StatusCode::CREATED, "{bare}");
    assert_eq!(bare["spec"]["ipFamilyPolicy"], "RequireDualStack");
    assert_eq!(spec_list(&bare, "ipFamilies"), ["IPv4", "IPv6"]);
    Ok(())
}

#[tokio::test]
async fn real_kubectl_creates_and_lists_services_on_a_dual_stack_cluster() -> Result<()> {
    let cluster = TestCluster::start_with_args(&[DUAL]).await?;
    let real = cluster.real_kubectl();
    let kubectl = |args: &[&str]| real.run(args);
    kubectl(&["create", "service", "clusterip", "web", "--tcp=80:8080"])?;
    let (_, web) = cluster.get_json(&format!("{SVCS}/web")).await?;
    let web_ip = web["spec"]["clusterIP"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(web_ip.starts_with("10."), "{web}");

    let dual = create(
        &cluster,
        "dual",
        json!({"ipFamilyPolicy": "PreferDualStack"}),
    )
    .await?;
    let ips = spec_list(&dual, "clusterIPs");
    let table = kubectl(&["get", "svc", "-o", "wide"])?;
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("NAME") && header.contains("CLUSTER-IP") && header.contains("SELECTOR"),
        "{table}"
    );
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("web").contains(&web_ip), "{table}");
    // As upstream's printer: CLUSTER-IP shows the primary address only.
    let dual_row = row("dual");
    assert!(dual_row.contains(&format!(" {} ", ips[0])), "{table}");
    assert!(!dual_row.contains(&ips[1]), "{table}");
    Ok(())
}
