//! Wire compatibility: our CRI v1 contract must name and number every message, field, enum
//! value and RPC exactly as the runtime does. containerd embeds its `api.proto` descriptor
//! (gzip-compressed, as Go protobuf registers it) in its binary; we find it there and compare.
use std::collections::BTreeMap;
use std::io::Read;

use prost::Message;
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto, FileDescriptorSet};

const PACKAGE: &str = "runtime.v1";

fn containerd_binary() -> std::path::PathBuf {
    std::env::var_os("CONTAINERD_BIN")
        .map(Into::into)
        .unwrap_or_else(|| "/usr/bin/containerd".into())
}

/// Scans a binary for gzip streams and returns the first that decodes to the CRI descriptor.
fn embedded_descriptor(binary: &[u8]) -> Option<FileDescriptorProto> {
    const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
    let mut start = 0;
    while let Some(offset) = binary[start..].windows(3).position(|w| w == GZIP_MAGIC) {
        let at = start + offset;
        start = at + 3;
        let mut raw = Vec::new();
        let mut decoder = flate2::read::GzDecoder::new(&binary[at..]);
        if decoder.read_to_end(&mut raw).is_err() {
            continue;
        }
        if let Ok(file) = FileDescriptorProto::decode(raw.as_slice()) {
            if file.package() == PACKAGE && !file.service.is_empty() {
                return Some(file);
            }
        }
    }
    None
}

/// Flattens a file into "path → signature" lines, so two files compare as two maps.
fn signatures(file: &FileDescriptorProto) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for service in &file.service {
        for method in &service.method {
            out.insert(
                format!("rpc {}.{}", service.name(), method.name()),
                format!(
                    "({}{}) -> ({}{})",
                    if method.client_streaming() {
                        "stream "
                    } else {
                        ""
                    },
                    method.input_type(),
                    if method.server_streaming() {
                        "stream "
                    } else {
                        ""
                    },
                    method.output_type()
                ),
            );
        }
    }
    for e in &file.enum_type {
        enum_signatures(e, "", &mut out);
    }
    for m in &file.message_type {
        message_signatures(m, "", &mut out);
    }
    out
}

fn enum_signatures(e: &EnumDescriptorProto, scope: &str, out: &mut BTreeMap<String, String>) {
    for value in &e.value {
        out.insert(
            format!("enum {scope}{}.{}", e.name(), value.name()),
            value.number().to_string(),
        );
    }
}

fn message_signatures(m: &DescriptorProto, scope: &str, out: &mut BTreeMap<String, String>) {
    let path = format!("{scope}{}", m.name());
    out.insert(format!("message {path}"), String::new());
    for field in &m.field {
        out.insert(
            format!("field {path}.{}", field.name()),
            format!(
                "#{} {:?} {:?} {}",
                field.number(),
                field.label(),
                field.r#type(),
                field.type_name()
            ),
        );
    }
    for e in &m.enum_type {
        enum_signatures(e, &format!("{path}."), out);
    }
    for nested in &m.nested_type {
        message_signatures(nested, &format!("{path}."), out);
    }
}

#[test]
fn cri_contract_matches_the_descriptor_containerd_embeds() {
    let path = containerd_binary();
    let binary = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "reading {} (install containerd: hack/install-deps.sh): {e}",
            path.display()
        )
    });
    let theirs = embedded_descriptor(&binary)
        .unwrap_or_else(|| panic!("no {PACKAGE} descriptor found in {}", path.display()));

    let set = FileDescriptorSet::decode(proto::cri::v1::FILE_DESCRIPTOR_SET)
        .expect("our descriptor set decodes");
    let ours = set
        .file
        .iter()
        .find(|f| f.package() == PACKAGE)
        .expect("our descriptor set holds runtime.v1");

    let (ours, theirs) = (signatures(ours), signatures(&theirs));
    let mut problems = Vec::new();
    for (key, sig) in &ours {
        match theirs.get(key) {
            None => problems.push(format!("{key}: not in containerd's contract")),
            Some(other) if other != sig => {
                problems.push(format!("{key}: ours {sig}, containerd's {other}"))
            }
            Some(_) => {}
        }
    }
    for key in theirs.keys().filter(|k| !ours.contains_key(*k)) {
        problems.push(format!("{key}: missing from ours"));
    }
    assert!(
        ours.len() > 500,
        "suspiciously small contract: {} entries",
        ours.len()
    );
    assert!(
        problems.is_empty(),
        "CRI contract differs from containerd's:\n{}",
        problems.join("\n")
    );
}

#[test]
fn generated_types_carry_the_contract_names() {
    // A compile-time check that the services the kubelet uses exist under their CRI names.
    let request = proto::cri::v1::RunPodSandboxRequest::default();
    assert!(request.config.is_none());
    let _ = proto::cri::v1::runtime_service_client::RuntimeServiceClient::<tonic::transport::Channel>::new;
    let _ =
        proto::cri::v1::image_service_client::ImageServiceClient::<tonic::transport::Channel>::new;
}
