//! Whole bodies as client-go's generated marshallers write them (every non-pointer field
//! present, empty strings and zero numbers included), decoded to the JSON kubectl would send.

use serde_json::json;

use super::*;

/// A tiny protobuf writer for building request bodies.
#[derive(Default, Clone)]
struct Enc(Vec<u8>);

impl Enc {
    fn raw_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn varint(mut self, field: u32, v: u64) -> Self {
        self.raw_varint(u64::from(field) << 3);
        self.raw_varint(v);
        self
    }

    fn bytes(mut self, field: u32, b: &[u8]) -> Self {
        self.raw_varint((u64::from(field) << 3) | 2);
        self.raw_varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    fn str(self, field: u32, s: &str) -> Self {
        self.bytes(field, s.as_bytes())
    }

    fn msg(self, field: u32, m: Enc) -> Self {
        self.bytes(field, &m.0)
    }

    /// A map entry {key = 1, value = 2}.
    fn entry(self, field: u32, key: &str, value: &[u8]) -> Self {
        self.msg(field, Enc::default().str(1, key).bytes(2, value))
    }
}

fn envelope(api_version: &str, kind: &str, object: Enc) -> Vec<u8> {
    let type_meta = Enc::default().str(1, api_version).str(2, kind);
    let unknown = Enc::default()
        .msg(1, type_meta)
        .msg(2, object)
        .str(3, "")
        .str(4, "");
    [MAGIC, &unknown.0].concat()
}

/// ObjectMeta as Go writes it for a new object: every non-pointer field, zero creationTimestamp.
fn object_meta(name: &str, namespace: &str) -> Enc {
    Enc::default()
        .str(1, name)
        .str(2, "")
        .str(3, namespace)
        .str(4, "")
        .str(5, "")
        .str(6, "")
        .varint(7, 0)
        .msg(8, Enc::default())
}

#[test]
fn namespace_decodes_like_kubectl_create_namespace() {
    let ns = Enc::default()
        .msg(1, object_meta("foo", ""))
        .msg(2, Enc::default())
        .msg(3, Enc::default().str(1, ""));
    let body = envelope("v1", "Namespace", ns);
    assert_eq!(
        decode_to_json(&body).unwrap(),
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "foo", "creationTimestamp": null},
            "spec": {}, "status": {}
        })
    );
}

#[test]
fn configmap_data_becomes_an_object() {
    let cm = Enc::default()
        .msg(1, object_meta("cfg", "default").entry(11, "app", b"web"))
        .entry(2, "a", b"1")
        .entry(2, "b", b"")
        .entry(3, "bin", &[0, 1, 2]);
    let got = decode_to_json(&envelope("v1", "ConfigMap", cm)).unwrap();
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "default", "labels": {"app": "web"},
                         "creationTimestamp": null},
            "data": {"a": "1", "b": ""},
            "binaryData": {"bin": "AAEC"}
        })
    );
}

#[test]
fn secret_bytes_are_base64_and_immutable_false_is_kept() {
    let secret = Enc::default()
        .msg(1, object_meta("s", "default"))
        .entry(2, "password", b"\xffhunter2")
        .str(3, "Opaque")
        .varint(5, 0);
    let got = decode_to_json(&envelope("v1", "Secret", secret)).unwrap();
    assert_eq!(got["data"], json!({"password": "/2h1bnRlcjI="}));
    assert_eq!(got["type"], "Opaque");
    // `immutable` is a *bool: present on the wire means set, even to false.
    assert_eq!(got["immutable"], false);
}

#[test]
fn deployment_with_zero_replicas_ports_limits_and_max_surge() {
    let port = Enc::default()
        .str(1, "")
        .varint(2, 0)
        .varint(3, 80)
        .str(4, "TCP")
        .str(5, "");
    let quantity = |s: &str| Enc::default().str(1, s).0;
    let resources =
        Enc::default()
            .entry(1, "cpu", &quantity("500m"))
            .entry(1, "memory", &quantity("128Mi"));
    let container = Enc::default()
        .str(1, "nginx")
        .str(2, "nginx:1.27")
        .msg(6, port)
        .msg(8, resources)
        .str(13, "")
        .str(14, "")
        .varint(16, 0);
    let pod_spec = Enc::default().msg(2, container).str(3, "").str(6, "");
    let labels = Enc::default().entry(1, "app", b"web");
    let template = Enc::default()
        .msg(1, object_meta("", "").entry(11, "app", b"web"))
        .msg(2, pod_spec);
    let max_surge = Enc::default().varint(1, 1).varint(2, 0).str(3, "25%");
    let max_unavailable = Enc::default().varint(1, 0).varint(2, 1).str(3, "");
    let strategy = Enc::default()
        .str(1, "RollingUpdate")
        .msg(2, Enc::default().msg(1, max_unavailable).msg(2, max_surge));
    let spec = Enc::default()
        .varint(1, 0)
        .msg(2, labels)
        .msg(3, template)
        .msg(4, strategy)
        .varint(5, 0)
        .varint(7, 0);
    let status = Enc::default()
        .varint(1, 0)
        .varint(2, 0)
        .varint(3, 0)
        .varint(4, 0)
        .varint(5, 0)
        .varint(7, 0);
    let deployment = Enc::default()
        .msg(1, object_meta("web", "default"))
        .msg(2, spec)
        .msg(3, status);
    let got = decode_to_json(&envelope("apps/v1", "Deployment", deployment)).unwrap();
    assert_eq!(
        got,
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": null},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}, "creationTimestamp": null},
                    "spec": {"containers": [{
                        "name": "nginx", "image": "nginx:1.27",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}
                    }]}
                },
                "strategy": {"type": "RollingUpdate",
                             "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}}
            },
            "status": {}
        })
    );
}

#[test]
fn inline_fields_join_the_parent_and_packed_repeated_scalars_unpack() {
    // Volume {name = 1, volumeSource = 2 (inline) {configMap = 19 {localObjectReference = 1 {name = 1}}}}
    let config_map = Enc::default().msg(1, Enc::default().str(1, "cfg"));
    let volume = Enc::default()
        .str(1, "conf")
        .msg(2, Enc::default().msg(19, config_map));
    // PodSecurityContext.supplementalGroups = 4, packed [1000, 2000]
    let mut packed = Enc::default();
    packed.raw_varint(1000);
    packed.raw_varint(2000);
    let security = Enc::default().bytes(4, &packed.0);
    let pod_spec = Enc::default().msg(1, volume).msg(14, security);
    let pod = Enc::default()
        .msg(1, object_meta("p", "default"))
        .msg(2, pod_spec);
    let got = decode_to_json(&envelope("v1", "Pod", pod)).unwrap();
    assert_eq!(
        got["spec"]["volumes"],
        json!([{"name": "conf", "configMap": {"name": "cfg"}}])
    );
    assert_eq!(
        got["spec"]["securityContext"]["supplementalGroups"],
        json!([1000, 2000])
    );
    // containers has no omitempty: an encoder that left it out still yields a list.
    assert_eq!(got["spec"]["containers"], json!([]));
}

#[test]
fn token_request_and_delete_options_resolve() {
    // TokenRequest.spec = 2 {audiences = 1, expirationSeconds = 4 (*int64)}
    let spec = Enc::default().str(1, "api").varint(4, 3600);
    let body = envelope(
        "authentication.k8s.io/v1",
        "TokenRequest",
        Enc::default().msg(2, spec),
    );
    let got = decode_to_json(&body).unwrap();
    assert_eq!(
        got["spec"],
        json!({"audiences": ["api"], "expirationSeconds": 3600})
    );
    // DeleteOptions is served in every group version but lives in meta/v1.
    let opts = Enc::default().str(4, "Foreground");
    let got = decode_to_json(&envelope("apps/v1", "DeleteOptions", opts)).unwrap();
    assert_eq!(got["propagationPolicy"], "Foreground");
}

#[test]
fn content_type_detection() {
    assert!(is_protobuf("application/vnd.kubernetes.protobuf"));
    assert!(is_protobuf(
        "application/vnd.kubernetes.protobuf; stream=watch"
    ));
    assert!(!is_protobuf("application/json"));
    assert!(!is_protobuf(""));
}

#[test]
fn malformed_bodies_are_errors() {
    assert_eq!(
        decode_to_json(b"{\"kind\":\"Namespace\"}"),
        Err(ProtobufError::MissingMagic)
    );
    let mut garbage = MAGIC.to_vec();
    garbage.extend([0xff; 16]);
    assert!(decode_to_json(&garbage).is_err());
    let body = envelope(
        "v1",
        "Namespace",
        Enc::default().msg(1, object_meta("foo", "")),
    );
    // Cutting between two top-level records leaves a shorter valid message (protobuf cannot
    // tell); every cut inside a record must fail.
    let type_meta_end = MAGIC.len() + 2 + Enc::default().str(1, "v1").str(2, "Namespace").0.len();
    let raw_end = body.len() - 4;
    for cut in (MAGIC.len() + 1..raw_end).filter(|cut| *cut != type_meta_end) {
        assert!(decode_to_json(&body[..cut]).is_err(), "cut at {cut}");
    }
    assert!(matches!(
        decode_to_json(&envelope("example.com/v1", "Widget", Enc::default())),
        Err(ProtobufError::UnknownKind { .. })
    ));
    // A string field sent as a varint.
    let wrong = Enc::default().msg(1, Enc::default().varint(1, 5));
    assert!(matches!(
        decode_to_json(&envelope("v1", "Namespace", wrong)),
        Err(ProtobufError::WireType { field: 1, .. })
    ));
}

/// Bodies captured from the real kubectl v1.32 (`kubectl create namespace foo`,
/// `create deployment web --image=nginx:1.27 --replicas=0 --port=80`,
/// `create service clusterip svc --tcp=80:8080`, `create quota q --hard=pods=2,requests.cpu=500m`,
/// `create pdb pdb --selector=app=x --min-available=50%`), each next to what the same command
/// prints with `--dry-run=client -o json`.
#[test]
fn real_kubectl_bodies_decode_to_kubectls_own_json() {
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "namespace",
            include_bytes!("testdata/namespace.pb"),
            include_str!("testdata/namespace.json"),
        ),
        (
            "deployment",
            include_bytes!("testdata/deployment.pb"),
            include_str!("testdata/deployment.json"),
        ),
        (
            "service",
            include_bytes!("testdata/service.pb"),
            include_str!("testdata/service.json"),
        ),
        (
            "resourcequota",
            include_bytes!("testdata/resourcequota.pb"),
            include_str!("testdata/resourcequota.json"),
        ),
        (
            "poddisruptionbudget",
            include_bytes!("testdata/poddisruptionbudget.pb"),
            include_str!("testdata/poddisruptionbudget.json"),
        ),
    ];
    for (name, body, expected) in cases {
        let expected: Value = serde_json::from_str(expected).unwrap();
        assert_eq!(decode_to_json(body).unwrap(), expected, "{name}");
    }
}
