//! Service account authentication end to end: TokenRequest issues a token, the token
//! authenticates (SelfSubjectReview, TokenReview) as `system:serviceaccount:<ns>:<name>`
//! while the account — and the pod it is bound to — exist; forged, expired and malformed
//! tokens are 401 and never hurt the server; OIDC discovery serves the keys; the
//! ServiceAccount admission plugin mounts tokens into pods; real kubectl creates tokens and
//! asks `auth whoami`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use integration_tests::api::send;
use integration_tests::{status_of, TestCluster, SERVICE_ACCOUNT_ISSUER};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn create_namespace(cluster: &TestCluster, ns: &str) -> Result<()> {
    let (code, body) = cluster
        .post_json(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .await?;
    if code != StatusCode::CREATED {
        bail!("creating namespace {ns}: {code} {body}");
    }
    Ok(())
}

/// Create a ServiceAccount; returns its UID.
async fn create_service_account(cluster: &TestCluster, ns: &str, name: &str) -> Result<String> {
    let (code, body) = cluster
        .post_json(
            &format!("/api/v1/namespaces/{ns}/serviceaccounts"),
            &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}),
        )
        .await?;
    if code != StatusCode::CREATED {
        bail!("creating serviceaccount {ns}/{name}: {code} {body}");
    }
    Ok(body["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// POST a TokenRequest as the admin.
async fn request_token(
    cluster: &TestCluster,
    ns: &str,
    sa: &str,
    spec: Value,
) -> Result<(StatusCode, Value)> {
    cluster
        .post_json(
            &format!("/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token"),
            &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}),
        )
        .await
}

async fn token_for(cluster: &TestCluster, ns: &str, sa: &str, spec: Value) -> Result<String> {
    let (code, body) = request_token(cluster, ns, sa, spec).await?;
    if code != StatusCode::CREATED {
        bail!("TokenRequest {ns}/{sa}: {code} {body}");
    }
    Ok(body["status"]["token"]
        .as_str()
        .context("no status.token")?
        .to_string())
}

/// SelfSubjectReview with a bearer token and no client certificate.
async fn whoami(cluster: &TestCluster, token: &str) -> Result<(StatusCode, Value)> {
    send(
        cluster
            .anonymous_client()?
            .post(cluster.url("/apis/authentication.k8s.io/v1/selfsubjectreviews"))
            .bearer_auth(token)
            .json(&json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})),
    )
    .await
}

/// Wait until the token is refused (the apiserver's cache follows deletions within moments).
async fn wait_unauthorized(cluster: &TestCluster, token: &str) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, body) = whoami(cluster, token).await?;
        if code == StatusCode::UNAUTHORIZED {
            return Ok(body);
        }
        if Instant::now() > deadline {
            bail!("token still accepted: {code} {body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The claims of a JWT (unverified).
fn claims_of(token: &str) -> Result<Value> {
    let payload = token.split('.').nth(1).context("not a JWT")?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?)
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
    "spec": {
        "initContainers": [{"name": "init", "image": "busybox"}],
        "containers": [{"name": "c", "image": "busybox"}, {"name": "d", "image": "busybox"}],
    }})
}

#[tokio::test]
async fn token_request_authenticates_as_the_service_account_until_it_is_deleted() -> Result<()> {
    let cluster = TestCluster::start().await?;
    create_namespace(&cluster, "authn-a").await?;
    let uid = create_service_account(&cluster, "authn-a", "builder").await?;

    let (code, tr) = request_token(&cluster, "authn-a", "builder", json!({})).await?;
    assert_eq!(code, StatusCode::CREATED, "{tr}");
    assert_eq!(tr["kind"], "TokenRequest");
    assert_eq!(tr["spec"]["expirationSeconds"], 3600, "upstream default");
    assert_eq!(tr["spec"]["audiences"], json!([SERVICE_ACCOUNT_ISSUER]));
    let token = tr["status"]["token"].as_str().context("token")?.to_string();
    let exp = tr["status"]["expirationTimestamp"]
        .as_str()
        .context("exp")?;
    assert!(exp.ends_with('Z'), "{exp}");

    let (code, review) = whoami(&cluster, &token).await?;
    assert_eq!(code, StatusCode::CREATED, "{review}");
    let user = &review["status"]["userInfo"];
    assert_eq!(user["username"], "system:serviceaccount:authn-a:builder");
    assert_eq!(user["uid"], uid.as_str());
    assert_eq!(
        user["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:authn-a",
            "system:authenticated"
        ])
    );
    let credential = user["extra"]["authentication.kubernetes.io/credential-id"][0]
        .as_str()
        .unwrap_or_default();
    assert!(credential.starts_with("JTI="), "{user}");

    // TokenReview, as a webhook or proxy would ask.
    let (code, tr) = cluster
        .post_json(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{tr}");
    assert_eq!(tr["status"]["authenticated"], true, "{tr}");
    assert_eq!(
        tr["status"]["user"]["username"],
        "system:serviceaccount:authn-a:builder"
    );
    assert_eq!(tr["status"]["audiences"], json!([SERVICE_ACCOUNT_ISSUER]));

    // Delete the account: the token dies with it.
    let (code, _) = cluster
        .delete("/api/v1/namespaces/authn-a/serviceaccounts/builder")
        .await?;
    assert_eq!(code, StatusCode::OK);
    let body = wait_unauthorized(&cluster, &token).await?;
    assert_eq!(status_of(&body), Some((401, "Unauthorized".into())));
    // A new account of the same name has a new UID: the old token stays dead.
    create_service_account(&cluster, "authn-a", "builder").await?;
    let (code, _) = whoami(&cluster, &token).await?;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let (_, tr) = cluster
        .post_json(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}),
        )
        .await?;
    assert_eq!(tr["status"]["authenticated"], false, "{tr}");
    assert!(tr["status"]["error"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    Ok(())
}

#[tokio::test]
async fn pod_bound_token_fails_once_the_pod_is_deleted() -> Result<()> {
    let cluster = TestCluster::start().await?;
    create_namespace(&cluster, "authn-b").await?;
    create_service_account(&cluster, "authn-b", "runner").await?;
    let (code, p) = cluster
        .post_json("/api/v1/namespaces/authn-b/pods", &pod("worker"))
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{p}");
    let pod_uid = p["metadata"]["uid"].as_str().context("uid")?.to_string();

    // Bound to a pod that does not exist, or to the wrong UID: refused.
    let missing = json!({"boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "nope"}});
    let (code, _) = request_token(&cluster, "authn-b", "runner", missing).await?;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let wrong_uid = json!({"boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "worker", "uid": "0000"}});
    let (code, _) = request_token(&cluster, "authn-b", "runner", wrong_uid).await?;
    assert_eq!(code, StatusCode::CONFLICT);
    let configmap =
        json!({"boundObjectRef": {"apiVersion": "v1", "kind": "ConfigMap", "name": "x"}});
    let (code, _) = request_token(&cluster, "authn-b", "runner", configmap).await?;
    assert_eq!(code, StatusCode::BAD_REQUEST);

    let (code, tr) = request_token(
        &cluster,
        "authn-b",
        "runner",
        json!({"expirationSeconds": 1200, "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "worker"}}),
    )
    .await?;
    assert_eq!(code, StatusCode::CREATED, "{tr}");
    assert_eq!(tr["spec"]["expirationSeconds"], 1200);
    assert_eq!(tr["spec"]["boundObjectRef"]["uid"], pod_uid.as_str());
    let token = tr["status"]["token"].as_str().context("token")?.to_string();

    // The kubelet's 3607 s request for a pod is issued for a year, with `warnafter`, while
    // the answer keeps the lifetime asked for (upstream's --service-account-extend-token-expiration).
    let (code, kubelet_like) = request_token(
        &cluster,
        "authn-b",
        "runner",
        json!({"expirationSeconds": 3607, "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "worker"}}),
    )
    .await?;
    assert_eq!(code, StatusCode::CREATED, "{kubelet_like}");
    let extended = claims_of(kubelet_like["status"]["token"].as_str().unwrap_or_default())?;
    let iat = extended["iat"].as_i64().unwrap_or_default();
    assert_eq!(
        extended["exp"].as_i64(),
        Some(iat + 365 * 24 * 3600),
        "{extended}"
    );
    assert_eq!(
        extended["kubernetes.io"]["warnafter"].as_i64(),
        Some(iat + 3607)
    );
    let plain = claims_of(&token)?;
    assert!(plain["kubernetes.io"].get("warnafter").is_none(), "{plain}");

    let (code, review) = whoami(&cluster, &token).await?;
    assert_eq!(code, StatusCode::CREATED, "{review}");
    let extra = &review["status"]["userInfo"]["extra"];
    assert_eq!(
        extra["authentication.kubernetes.io/pod-name"],
        json!(["worker"])
    );
    assert_eq!(
        extra["authentication.kubernetes.io/pod-uid"],
        json!([pod_uid])
    );

    let (code, _) = cluster
        .delete("/api/v1/namespaces/authn-b/pods/worker?gracePeriodSeconds=0")
        .await?;
    assert!(code.is_success(), "{code}");
    wait_unauthorized(&cluster, &token).await?;
    // The account itself is fine: an unbound token still works.
    let fresh = token_for(&cluster, "authn-b", "runner", json!({})).await?;
    assert_eq!(whoami(&cluster, &fresh).await?.0, StatusCode::CREATED);
    Ok(())
}

#[tokio::test]
async fn token_request_validates_like_upstream() -> Result<()> {
    let cluster = TestCluster::start().await?;
    create_namespace(&cluster, "authn-c").await?;
    create_service_account(&cluster, "authn-c", "sa").await?;

    let (code, body) =
        request_token(&cluster, "authn-c", "sa", json!({"expirationSeconds": 100})).await?;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("may not specify a duration less than 10 minutes")));
    let (code, body) = request_token(&cluster, "authn-c", "ghost", json!({})).await?;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(status_of(&body), Some((404, "NotFound".into())));

    // A token for another audience is no good at the API, but TokenReview can check it
    // for that audience.
    let vault = token_for(&cluster, "authn-c", "sa", json!({"audiences": ["vault"]})).await?;
    assert_eq!(whoami(&cluster, &vault).await?.0, StatusCode::UNAUTHORIZED);
    let (_, tr) = cluster
        .post_json(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                "spec": {"token": vault, "audiences": ["vault"]}}),
        )
        .await?;
    assert_eq!(tr["status"]["authenticated"], true, "{tr}");
    assert_eq!(tr["status"]["audiences"], json!(["vault"]));
    let (code, _) = cluster
        .post_json(
            "/apis/authentication.k8s.io/v1/tokenreviews",
            &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {}}),
        )
        .await?;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    Ok(())
}

// ---- forged tokens

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Sign a JWT with the cluster's real service account key (ES256), to forge tokens whose
/// signature is fine but whose claims are not.
fn sign_with_cluster_key(dir: &Path, header: &Value, claims: &Value) -> Result<String> {
    let pem = std::fs::read(dir.join("pki/sa.key"))?;
    let key = rustls_pemfile::private_key(&mut pem.as_slice())?.context("no key in sa.key")?;
    let rng = ring::rand::SystemRandom::new();
    let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        key.secret_der(),
        &rng,
    )
    .map_err(|e| anyhow::anyhow!("sa.key: {e}"))?;
    let input = format!("{}.{}", b64(header), b64(claims));
    let sig = pair
        .sign(&rng, input.as_bytes())
        .map_err(|e| anyhow::anyhow!("sign: {e}"))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())))
}

fn claims(ns: &str, sa: &str, uid: &str, exp_offset: i64) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    json!({
        "iss": SERVICE_ACCOUNT_ISSUER, "aud": [SERVICE_ACCOUNT_ISSUER],
        "sub": format!("system:serviceaccount:{ns}:{sa}"),
        "iat": now + exp_offset - 3600, "nbf": now + exp_offset - 3600, "exp": now + exp_offset,
        "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": sa, "uid": uid}},
    })
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_401_and_the_server_stays_up() -> Result<()> {
    let cluster = TestCluster::start().await?;
    create_namespace(&cluster, "authn-d").await?;
    let uid = create_service_account(&cluster, "authn-d", "sa").await?;
    let good = token_for(&cluster, "authn-d", "sa", json!({})).await?;
    let parts: Vec<&str> = good.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0])?)?;
    let dir = cluster.dir();

    // The forging itself must be right: the same claims, freshly signed, are accepted.
    let control = sign_with_cluster_key(dir, &header, &claims("authn-d", "sa", &uid, 600))?;
    assert_eq!(whoami(&cluster, &control).await?.0, StatusCode::CREATED);

    let mut bad_sig = parts[2].as_bytes().to_vec();
    bad_sig[10] = if bad_sig[10] == b'A' { b'B' } else { b'A' };
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], String::from_utf8(bad_sig)?);
    let mut escalated = claims("authn-d", "sa", &uid, 600);
    escalated["sub"] = json!("system:serviceaccount:kube-system:admin");
    let swapped_payload = format!("{}.{}.{}", parts[0], b64(&escalated), parts[2]);
    let mut wrong_aud = claims("authn-d", "sa", &uid, 600);
    wrong_aud["aud"] = json!(["https://somewhere.else"]);
    let mut wrong_iss = claims("authn-d", "sa", &uid, 600);
    wrong_iss["iss"] = json!("https://evil.example");
    let mut wrong_uid = claims("authn-d", "sa", &uid, 600);
    wrong_uid["kubernetes.io"]["serviceaccount"]["uid"] = json!("not-the-uid");
    let pub_pem = std::fs::read(dir.join("pki/sa.pub"))?;
    let hs_input = format!(
        "{}.{}",
        b64(&json!({"alg": "HS256", "kid": header["kid"]})),
        b64(&claims("authn-d", "sa", &uid, 600))
    );
    let hmac = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &pub_pem),
        hs_input.as_bytes(),
    );
    let hs256 = format!("{hs_input}.{}", URL_SAFE_NO_PAD.encode(hmac.as_ref()));
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none"})),
        b64(&claims("authn-d", "sa", &uid, 600))
    );
    let huge_header = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "ES256", "pad": "x".repeat(60_000)})),
        parts[1],
        parts[2]
    );

    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not-a-jwt".into()),
        ("three garbage parts", "a.b.c".into()),
        ("bad signature", bad_sig),
        ("payload swapped under a valid signature", swapped_payload),
        (
            "expired",
            sign_with_cluster_key(dir, &header, &claims("authn-d", "sa", &uid, -3600))?,
        ),
        (
            "wrong audience",
            sign_with_cluster_key(dir, &header, &wrong_aud)?,
        ),
        (
            "wrong issuer",
            sign_with_cluster_key(dir, &header, &wrong_iss)?,
        ),
        (
            "service account UID mismatch",
            sign_with_cluster_key(dir, &header, &wrong_uid)?,
        ),
        ("alg none", alg_none),
        ("HS256 keyed with the public key", hs256),
        ("huge header", huge_header),
        ("not even ASCII base64", "ü.ü.ü".into()),
    ];
    for (what, token) in &cases {
        let resp = cluster
            .anonymous_client()?
            .get(cluster.url("/api/v1/namespaces"))
            .bearer_auth(token)
            .send()
            .await
            .with_context(|| what.to_string())?;
        let code = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(
            status_of(&body),
            Some((401, "Unauthorized".into())),
            "{what}"
        );
    }
    // A header far beyond any token: refused one way or another, and the server carries on.
    let enormous = format!("Bearer {}", "A".repeat(512 * 1024));
    if let Ok(resp) = cluster
        .anonymous_client()?
        .get(cluster.url("/api/v1/namespaces"))
        .header("Authorization", enormous)
        .send()
        .await
    {
        assert!(resp.status().is_client_error(), "{}", resp.status());
    }
    let (code, _) = cluster.get_json("/readyz").await?;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(whoami(&cluster, &good).await?.0, StatusCode::CREATED);
    Ok(())
}

#[tokio::test]
async fn oidc_discovery_and_api_discovery_publish_authentication() -> Result<()> {
    let cluster = TestCluster::start().await?;
    let (code, config) = cluster
        .get_json("/.well-known/openid-configuration")
        .await?;
    assert_eq!(code, StatusCode::OK, "{config}");
    assert_eq!(config["issuer"], SERVICE_ACCOUNT_ISSUER);
    assert_eq!(
        config["jwks_uri"],
        format!("{SERVICE_ACCOUNT_ISSUER}/openid/v1/jwks")
    );
    let (code, jwks) = cluster.get_json("/openid/v1/jwks").await?;
    assert_eq!(code, StatusCode::OK, "{jwks}");
    create_namespace(&cluster, "authn-e").await?;
    create_service_account(&cluster, "authn-e", "sa").await?;
    let token = token_for(&cluster, "authn-e", "sa", json!({})).await?;
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap_or_default())?,
    )?;
    let keys = jwks["keys"].as_array().context("keys")?;
    assert!(
        keys.iter()
            .any(|k| k["kid"] == header["kid"] && k["alg"] == header["alg"]),
        "{jwks} vs {header}"
    );

    let (code, list) = cluster.get_json("/apis/authentication.k8s.io/v1").await?;
    assert_eq!(code, StatusCode::OK);
    for name in ["selfsubjectreviews", "tokenreviews"] {
        let r = list["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["name"] == name))
            .with_context(|| format!("{name} in {list}"))?;
        assert_eq!(r["verbs"], json!(["create"]), "{name}");
        assert_eq!(r["namespaced"], false);
    }
    let (_, core) = cluster.get_json("/api/v1").await?;
    let token_sub = core["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == "serviceaccounts/token"))
        .context("serviceaccounts/token in /api/v1")?;
    assert_eq!(token_sub["kind"], "TokenRequest");
    Ok(())
}

#[tokio::test]
async fn service_account_admission_defaults_and_mounts_the_token() -> Result<()> {
    let cluster =
        TestCluster::start_with_args(&["--enable-admission-plugins=ServiceAccount"]).await?;
    create_namespace(&cluster, "authn-f").await?;
    let (code, body) = cluster
        .post_json("/api/v1/namespaces/authn-f/pods", &pod("early"))
        .await?;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("error looking up service account authn-f/default")),
        "{body}"
    );

    create_service_account(&cluster, "authn-f", "default").await?;
    let (code, p) = cluster
        .post_json("/api/v1/namespaces/authn-f/pods", &pod("mounted"))
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{p}");
    assert_eq!(p["spec"]["serviceAccountName"], "default");
    let vols = p["spec"]["volumes"].as_array().context("volumes")?;
    let vol = vols
        .iter()
        .find(|v| {
            v["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("kube-api-access-") && n.len() == 21)
        })
        .with_context(|| format!("no kube-api-access volume in {vols:?}"))?;
    let sources = &vol["projected"]["sources"];
    assert_eq!(sources[0]["serviceAccountToken"]["expirationSeconds"], 3607);
    assert_eq!(sources[0]["serviceAccountToken"]["path"], "token");
    assert_eq!(sources[1]["configMap"]["name"], "kube-root-ca.crt");
    assert_eq!(
        sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    for list in ["initContainers", "containers"] {
        for c in p["spec"][list].as_array().context("containers")? {
            let m = c["volumeMounts"]
                .as_array()
                .and_then(|ms| {
                    ms.iter()
                        .find(|m| m["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount")
                })
                .with_context(|| format!("no token mount in {c}"))?;
            assert_eq!(m["readOnly"], true);
            assert_eq!(m["name"], vol["name"]);
        }
    }

    // Opting out, on the pod or on the account.
    let mut opt_out = pod("opted-out");
    opt_out["spec"]["automountServiceAccountToken"] = json!(false);
    let (code, p) = cluster
        .post_json("/api/v1/namespaces/authn-f/pods", &opt_out)
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{p}");
    assert!(p["spec"]["volumes"].as_array().is_none_or(|v| v.is_empty()));
    let (code, _) = cluster
        .post_json(
            "/api/v1/namespaces/authn-f/serviceaccounts",
            &json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "quiet"},
                "automountServiceAccountToken": false}),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED);
    let mut quiet = pod("quiet");
    quiet["spec"]["serviceAccountName"] = json!("quiet");
    let (code, p) = cluster
        .post_json("/api/v1/namespaces/authn-f/pods", &quiet)
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{p}");
    assert!(p["spec"]["volumes"].as_array().is_none_or(|v| v.is_empty()));
    Ok(())
}

// ---- real kubectl

/// The real kubectl with no kubeconfig of its own (each call passes one, or a server and
/// token), and a discovery cache private to `cluster` (see [`integration_tests::real_kubectl`]).
fn kubectl(cluster: &TestCluster, args: &[&str]) -> Result<std::process::Output> {
    Ok(
        std::process::Command::new(integration_tests::real_kubectl::PATH)
            .env("KUBECONFIG", "/dev/null")
            .arg("--cache-dir")
            .arg(cluster.dir().join("kubectl-cache"))
            .args(args)
            .output()?,
    )
}

#[tokio::test]
async fn kubectl_create_token_and_auth_whoami() -> Result<()> {
    integration_tests::real_kubectl::require()?;
    let cluster = TestCluster::start().await?;
    create_namespace(&cluster, "authn-g").await?;
    create_service_account(&cluster, "authn-g", "default").await?;
    let kubeconfig = format!("--kubeconfig={}", cluster.kubeconfig_path().display());

    let out = kubectl(&cluster, &[&kubeconfig, "auth", "whoami"])?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("kubernetes-admin"), "{text}");
    assert!(text.contains("system:masters"), "{text}");

    let out = kubectl(
        &cluster,
        &[&kubeconfig, "-n", "authn-g", "create", "token", "default"],
    )?;
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8(out.stdout)?.trim().to_string();
    assert_eq!(token.split('.').count(), 3, "{token}");

    // The token alone (no client certificate) is the service account to kubectl too.
    let ca = cluster.dir().join("pki/ca.crt");
    let server = format!("--server={}", cluster.base_url());
    let ca_flag = format!("--certificate-authority={}", ca.display());
    let token_flag = format!("--token={token}");
    let out = kubectl(
        &cluster,
        &[
            &server,
            &ca_flag,
            &token_flag,
            "auth",
            "whoami",
            "-o",
            "json",
        ],
    )?;
    assert!(out.status.success(), "{out:?}");
    let review: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(
        review["status"]["userInfo"]["username"],
        "system:serviceaccount:authn-g:default"
    );

    // --duration and a pod-bound token.
    let (code, p) = cluster
        .post_json("/api/v1/namespaces/authn-g/pods", &pod("web"))
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{p}");
    let out = kubectl(
        &cluster,
        &[
            &kubeconfig,
            "-n",
            "authn-g",
            "create",
            "token",
            "default",
            "--duration=20m",
            "--bound-object-kind=Pod",
            "--bound-object-name=web",
        ],
    )?;
    assert!(out.status.success(), "{out:?}");
    let bound = String::from_utf8(out.stdout)?.trim().to_string();
    let (code, review) = whoami(&cluster, &bound).await?;
    assert_eq!(code, StatusCode::CREATED, "{review}");
    assert_eq!(
        review["status"]["userInfo"]["extra"]["authentication.kubernetes.io/pod-name"],
        json!(["web"])
    );
    let claims = claims_of(&bound)?;
    let lifetime = claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0);
    assert_eq!(lifetime, 1200, "{claims}");
    Ok(())
}

// ---- the kubelet mounts the admitted token volume

#[tokio::test]
async fn kubelet_projects_a_working_token_into_an_admitted_pod() -> Result<()> {
    use integration_tests::containerd::Containerd;
    use integration_tests::kubelet::{create_bound_pod, start_kubelet, wait_pod};

    let cluster =
        TestCluster::start_with_args(&["--enable-admission-plugins=ServiceAccount"]).await?;
    // What kube-controller-manager provides upstream: the `default` account and the CA
    // ConfigMap every namespace gets.
    create_service_account(&cluster, "default", "default").await?;
    let (code, body) = cluster
        .post_json(
            "/api/v1/namespaces/default/configmaps",
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"},
                "data": {"ca.crt": cluster.ca().cert_pem()}}),
        )
        .await?;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let containerd = Containerd::start()?;
    let kubelet = start_kubelet(&cluster, &containerd, "kubelet-node-sa", "10.244.105.0/24")?;
    create_bound_pod(
        &cluster,
        &kubelet.node_name,
        "with-token",
        json!({"app": "with-token"}),
        json!({"terminationGracePeriodSeconds": 1,
            "containers": [{"name": "main", "image": "busybox:latest", "command": ["sleep", "3600"]}]}),
    )
    .await?;
    let pod = wait_pod(&cluster, &kubelet, "with-token", "Running", |p| {
        p["status"]["phase"] == "Running"
    })
    .await?;
    let uid = pod["metadata"]["uid"].as_str().context("uid")?;
    let volume = pod["spec"]["volumes"]
        .as_array()
        .and_then(|vs| {
            vs.iter()
                .filter_map(|v| v["name"].as_str())
                .find(|n| n.starts_with("kube-api-access-"))
        })
        .context("no kube-api-access volume")?;
    let dir = kubelet
        .root_dir
        .join("pods")
        .join(uid)
        .join("volumes/kubernetes.io~projected")
        .join(volume);
    let token = std::fs::read_to_string(dir.join("token"))
        .with_context(|| format!("reading {}", dir.display()))?;
    assert_eq!(std::fs::read_to_string(dir.join("namespace"))?, "default");
    assert_eq!(
        std::fs::read_to_string(dir.join("ca.crt"))?,
        cluster.ca().cert_pem()
    );
    // The token the kubelet got is the pod's own identity.
    let (code, review) = whoami(&cluster, &token).await?;
    assert_eq!(code, StatusCode::CREATED, "{review}");
    let user = &review["status"]["userInfo"];
    assert_eq!(user["username"], "system:serviceaccount:default:default");
    assert_eq!(
        user["extra"]["authentication.kubernetes.io/pod-name"],
        json!(["with-token"])
    );
    assert_eq!(
        user["extra"]["authentication.kubernetes.io/node-name"],
        json!([kubelet.node_name])
    );
    Ok(())
}
