use super::*;
use serde_json::json;

fn zone() -> Name {
    Name::from_ascii("cluster.local.").unwrap()
}

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn service(v: serde_json::Value) -> Arc<Service> {
    Arc::new(serde_json::from_value(v).unwrap())
}

fn slice(v: serde_json::Value) -> Arc<EndpointSlice> {
    Arc::new(serde_json::from_value(v).unwrap())
}

fn answers(answer: Answer) -> Vec<String> {
    match answer {
        Answer::Records { answers, .. } => {
            let mut v: Vec<String> = answers.iter().map(|r| r.data().to_string()).collect();
            v.sort();
            v
        }
        other => panic!("expected records, got {other:?}"),
    }
}

fn fixture() -> ClusterRecords {
    let services = vec![
        service(json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"port": 81}]}
        })),
        service(json!({
            "metadata": {"name": "db", "namespace": "prod"},
            "spec": {"clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]}
        })),
        service(json!({
            "metadata": {"name": "empty", "namespace": "prod"},
            "spec": {"clusterIP": "None"}
        })),
        service(json!({
            "metadata": {"name": "ext", "namespace": "default"},
            "spec": {"type": "ExternalName", "externalName": "example.com"}
        })),
    ];
    let slices = vec![
        slice(json!({
            "metadata": {"name": "db-abc", "namespace": "prod",
                         "labels": {"kubernetes.io/service-name": "db"}},
            "addressType": "IPv4",
            "ports": [{"name": "pg", "port": 15432, "protocol": "TCP"}],
            "endpoints": [
                {"addresses": ["10.244.0.5"], "hostname": "db-0", "conditions": {"ready": true}},
                {"addresses": ["10.244.0.6"], "conditions": {}},
                {"addresses": ["10.244.0.7"], "hostname": "db-2", "conditions": {"ready": false}}
            ]
        })),
        slice(json!({
            "metadata": {"name": "empty-abc", "namespace": "prod",
                         "labels": {"kubernetes.io/service-name": "empty"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.244.0.9"], "conditions": {"ready": false}}]
        })),
    ];
    ClusterRecords::build(&zone(), 30, &services, &slices)
}

#[test]
fn cluster_ip_service_has_a_srv_and_ptr() {
    let z = fixture();
    assert_eq!(
        answers(z.lookup(&name("web.default.svc.cluster.local."), RecordType::A)),
        vec!["10.96.0.20"]
    );
    // Case-insensitive, answered with the question's spelling.
    match z.lookup(&name("WEB.Default.svc.cluster.local."), RecordType::A) {
        Answer::Records { answers, .. } => {
            assert_eq!(
                answers[0].name().to_ascii(),
                "WEB.Default.svc.cluster.local."
            )
        }
        other => panic!("{other:?}"),
    }
    match z.lookup(
        &name("_http._tcp.web.default.svc.cluster.local."),
        RecordType::SRV,
    ) {
        Answer::Records {
            answers,
            additionals,
        } => {
            assert_eq!(
                answers[0].data().to_string(),
                "0 100 80 web.default.svc.cluster.local."
            );
            assert_eq!(additionals.len(), 1, "the SRV target's A record");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        answers(z.lookup(&name("20.0.96.10.in-addr.arpa."), RecordType::PTR)),
        vec!["web.default.svc.cluster.local."]
    );
}

#[test]
fn nodata_vs_nxdomain() {
    let z = fixture();
    // The name exists, no AAAA: NODATA.
    assert_eq!(
        z.lookup(&name("web.default.svc.cluster.local."), RecordType::AAAA),
        Answer::NoData
    );
    // Empty non-terminals exist.
    assert_eq!(
        z.lookup(&name("default.svc.cluster.local."), RecordType::A),
        Answer::NoData
    );
    assert_eq!(
        z.lookup(&name("svc.cluster.local."), RecordType::A),
        Answer::NoData
    );
    assert_eq!(
        z.lookup(&name("nope.default.svc.cluster.local."), RecordType::A),
        Answer::NxDomain
    );
    // An unnamed port has no SRV record.
    assert_eq!(
        z.lookup(
            &name("_81._tcp.web.default.svc.cluster.local."),
            RecordType::SRV
        ),
        Answer::NxDomain
    );
    assert_eq!(
        z.lookup(&name("example.org."), RecordType::A),
        Answer::NotAuthoritative
    );
    assert_eq!(
        z.lookup(&name("1.2.3.4.in-addr.arpa."), RecordType::PTR),
        Answer::NotAuthoritative
    );
}

#[test]
fn headless_service_resolves_ready_endpoints() {
    let z = fixture();
    assert_eq!(
        answers(z.lookup(&name("db.prod.svc.cluster.local."), RecordType::A)),
        vec!["10.244.0.5", "10.244.0.6"],
        "the not-ready endpoint is left out"
    );
    assert_eq!(
        answers(z.lookup(&name("db-0.db.prod.svc.cluster.local."), RecordType::A)),
        vec!["10.244.0.5"]
    );
    assert_eq!(
        answers(z.lookup(
            &name("10-244-0-6.db.prod.svc.cluster.local."),
            RecordType::A
        )),
        vec!["10.244.0.6"]
    );
    assert_eq!(
        z.lookup(&name("db-2.db.prod.svc.cluster.local."), RecordType::A),
        Answer::NxDomain
    );
    assert_eq!(
        answers(z.lookup(
            &name("_pg._tcp.db.prod.svc.cluster.local."),
            RecordType::SRV
        )),
        vec![
            "0 100 15432 10-244-0-6.db.prod.svc.cluster.local.",
            "0 100 15432 db-0.db.prod.svc.cluster.local."
        ]
    );
    assert_eq!(
        answers(z.lookup(&name("5.0.244.10.in-addr.arpa."), RecordType::PTR)),
        vec!["db-0.db.prod.svc.cluster.local."]
    );
    // No ready endpoints: NXDOMAIN (spec 2.4.1).
    assert_eq!(
        z.lookup(&name("empty.prod.svc.cluster.local."), RecordType::A),
        Answer::NxDomain
    );
}

#[test]
fn external_name_is_a_cname_for_every_type() {
    let z = fixture();
    assert_eq!(
        answers(z.lookup(&name("ext.default.svc.cluster.local."), RecordType::A)),
        vec!["example.com."]
    );
    assert_eq!(
        answers(z.lookup(&name("ext.default.svc.cluster.local."), RecordType::AAAA)),
        vec!["example.com."]
    );
}

#[test]
fn schema_version_soa_and_pod_records() {
    let z = fixture();
    assert_eq!(
        answers(z.lookup(&name("dns-version.cluster.local."), RecordType::TXT)),
        vec!["1.1.0"]
    );
    assert!(matches!(
        z.lookup(&name("cluster.local."), RecordType::SOA),
        Answer::Records { .. }
    ));
    assert_eq!(
        z.lookup(&name("cluster.local."), RecordType::A),
        Answer::NoData
    );
    assert_eq!(
        answers(z.lookup(
            &name("10-244-1-7.default.pod.cluster.local."),
            RecordType::A
        )),
        vec!["10.244.1.7"]
    );
    assert_eq!(
        z.lookup(&name("not-an-ip.default.pod.cluster.local."), RecordType::A),
        Answer::NxDomain
    );
}

#[test]
fn unallocated_service_has_no_records() {
    let services = vec![service(json!({
        "metadata": {"name": "new", "namespace": "default"},
        "spec": {"ports": [{"name": "http", "port": 80}]}
    }))];
    let z = ClusterRecords::build(&zone(), 30, &services, &[]);
    assert_eq!(
        z.lookup(&name("new.default.svc.cluster.local."), RecordType::A),
        Answer::NxDomain
    );
}
