//! The swagger 2.0 document in its protobuf form (gnostic `openapi.v2.Document`), which
//! client-go asks for with `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`
//! and decodes without a JSON fallback. kubectl up to 1.29 needs it for `explain` and for
//! `apply`/`create` with validation; later versions use it where OpenAPI v3 is not enough.
//!
//! Only the parts of the document we generate are encoded: info, paths (operations with
//! body/query/path parameters and responses), definitions, security. Vendor extensions and
//! free-form values (`default`, `enum`, `example`) travel as `Any { yaml }`, with the value
//! written as JSON (a subset of YAML), which is how clients read them back.

use serde_json::Value;

/// A protobuf message being written (proto3 wire format).
#[derive(Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire_type: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire_type));
    }

    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    /// A string field; proto3 omits empty strings.
    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    fn str_of(&mut self, field: u32, v: &Value) {
        if let Some(s) = v.as_str() {
            self.string(field, s);
        }
    }

    fn strings(&mut self, field: u32, v: &Value) {
        for s in v.as_array().into_iter().flatten().filter_map(Value::as_str) {
            self.bytes(field, s.as_bytes());
        }
    }

    fn bool_of(&mut self, field: u32, v: &Value) {
        if v.as_bool() == Some(true) {
            self.key(field, 0);
            self.varint(1);
        }
    }

    fn int_of(&mut self, field: u32, v: &Value) {
        if let Some(i) = v.as_i64() {
            self.key(field, 0);
            self.varint(i as u64);
        }
    }

    fn double_of(&mut self, field: u32, v: &Value) {
        if let Some(d) = v.as_f64() {
            self.key(field, 1);
            self.0.extend_from_slice(&d.to_le_bytes());
        }
    }

    /// An embedded message; written even when empty, since presence matters for oneofs.
    fn message(&mut self, field: u32, m: Msg) {
        self.bytes(field, &m.0);
    }
}

/// `Any { yaml = 2 }` holding a JSON value.
fn any(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.string(2, &serde_json::to_string(v).unwrap_or_default());
    m
}

/// `NamedAny { name = 1, value = 2 }`.
fn named_any(name: &str, v: &Value) -> Msg {
    let mut m = Msg::default();
    m.string(1, name);
    m.message(2, any(v));
    m
}

/// Writes every `x-…` key of `obj` as a repeated `NamedAny` vendor extension.
fn vendor_extensions(m: &mut Msg, field: u32, obj: &Value) {
    for (k, v) in obj.as_object().into_iter().flatten() {
        if k.starts_with("x-") {
            m.message(field, named_any(k, v));
        }
    }
}

fn schema(s: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, &s["$ref"]);
    m.str_of(2, &s["format"]);
    m.str_of(3, &s["title"]);
    m.str_of(4, &s["description"]);
    if let Some(d) = s.get("default") {
        m.message(5, any(d));
    }
    m.double_of(6, &s["multipleOf"]);
    m.double_of(7, &s["maximum"]);
    m.bool_of(8, &s["exclusiveMaximum"]);
    m.double_of(9, &s["minimum"]);
    m.bool_of(10, &s["exclusiveMinimum"]);
    m.int_of(11, &s["maxLength"]);
    m.int_of(12, &s["minLength"]);
    m.str_of(13, &s["pattern"]);
    m.int_of(14, &s["maxItems"]);
    m.int_of(15, &s["minItems"]);
    m.bool_of(16, &s["uniqueItems"]);
    m.int_of(17, &s["maxProperties"]);
    m.int_of(18, &s["minProperties"]);
    m.strings(19, &s["required"]);
    for e in s["enum"].as_array().into_iter().flatten() {
        m.message(20, any(e));
    }
    match s.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut item = Msg::default();
            item.key(2, 0);
            item.varint(u64::from(*b));
            m.message(21, item);
        }
        Some(sub @ Value::Object(_)) => {
            let mut item = Msg::default();
            item.message(1, schema(sub));
            m.message(21, item);
        }
        _ => {}
    }
    match s.get("type") {
        Some(Value::String(t)) => {
            let mut item = Msg::default();
            item.string(1, t);
            m.message(22, item);
        }
        Some(ts @ Value::Array(_)) => {
            let mut item = Msg::default();
            item.strings(1, ts);
            m.message(22, item);
        }
        _ => {}
    }
    if let Some(items) = s.get("items") {
        let mut item = Msg::default();
        match items {
            Value::Array(a) => a.iter().for_each(|x| item.message(1, schema(x))),
            x => item.message(1, schema(x)),
        }
        m.message(23, item);
    }
    for x in s["allOf"].as_array().into_iter().flatten() {
        m.message(24, schema(x));
    }
    if let Some(props) = s["properties"].as_object() {
        let mut p = Msg::default();
        for (name, sub) in props {
            p.message(1, named(name, schema(sub)));
        }
        m.message(25, p);
    }
    m.str_of(26, &s["discriminator"]);
    m.bool_of(27, &s["readOnly"]);
    if let Some(e) = s.get("example") {
        m.message(30, any(e));
    }
    vendor_extensions(&mut m, 31, s);
    m
}

/// `Named<T> { name = 1, value = 2 }`.
fn named(name: &str, value: Msg) -> Msg {
    let mut m = Msg::default();
    m.string(1, name);
    m.message(2, value);
    m
}

fn parameter(p: &Value) -> Msg {
    let mut param = Msg::default();
    if p["in"] == "body" {
        let mut b = Msg::default();
        b.str_of(1, &p["description"]);
        b.str_of(2, &p["name"]);
        b.str_of(3, &p["in"]);
        b.bool_of(4, &p["required"]);
        b.message(5, schema(&p["schema"]));
        param.message(1, b);
    } else {
        let mut sub = Msg::default();
        sub.bool_of(1, &p["required"]);
        sub.str_of(2, &p["in"]);
        sub.str_of(3, &p["description"]);
        sub.str_of(4, &p["name"]);
        let which = if p["in"] == "path" {
            // PathParameterSubSchema: type 5, unique_items 19.
            sub.str_of(5, &p["type"]);
            sub.bool_of(19, &p["uniqueItems"]);
            4
        } else {
            // QueryParameterSubSchema: type 6, unique_items 20.
            sub.str_of(6, &p["type"]);
            sub.bool_of(20, &p["uniqueItems"]);
            3
        };
        let mut non_body = Msg::default();
        non_body.message(which, sub);
        param.message(2, non_body);
    }
    let mut item = Msg::default();
    item.message(1, param);
    item
}

fn operation(op: &Value) -> Msg {
    let mut m = Msg::default();
    m.strings(1, &op["tags"]);
    m.str_of(3, &op["description"]);
    m.str_of(5, &op["operationId"]);
    m.strings(6, &op["produces"]);
    m.strings(7, &op["consumes"]);
    for p in op["parameters"].as_array().into_iter().flatten() {
        m.message(8, parameter(p));
    }
    let mut responses = Msg::default();
    for (code, r) in op["responses"].as_object().into_iter().flatten() {
        let mut resp = Msg::default();
        resp.str_of(1, &r["description"]);
        if let Some(s) = r.get("schema") {
            let mut item = Msg::default();
            item.message(1, schema(s));
            resp.message(2, item);
        }
        let mut value = Msg::default();
        value.message(1, resp);
        responses.message(1, named(code, value));
    }
    m.message(9, responses);
    m.strings(10, &op["schemes"]);
    vendor_extensions(&mut m, 13, op);
    m
}

fn path_item(item: &Value) -> Msg {
    let mut m = Msg::default();
    for (method, field) in [
        ("get", 2),
        ("put", 3),
        ("post", 4),
        ("delete", 5),
        ("options", 6),
        ("head", 7),
        ("patch", 8),
    ] {
        if let Some(op) = item.get(method) {
            m.message(field, operation(op));
        }
    }
    for p in item["parameters"].as_array().into_iter().flatten() {
        m.message(9, parameter(p));
    }
    m
}

/// Encodes a swagger 2.0 JSON document as a gnostic `openapi.v2.Document`.
pub(crate) fn encode_document(doc: &Value) -> Vec<u8> {
    let mut m = Msg::default();
    m.str_of(1, &doc["swagger"]);
    let mut info = Msg::default();
    info.str_of(1, &doc["info"]["title"]);
    info.str_of(2, &doc["info"]["version"]);
    m.message(2, info);
    let mut paths = Msg::default();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        paths.message(2, named(path, path_item(item)));
    }
    m.message(8, paths);
    let mut defs = Msg::default();
    for (name, s) in doc["definitions"].as_object().into_iter().flatten() {
        defs.message(1, named(name, schema(s)));
    }
    m.message(9, defs);
    for req in doc["security"].as_array().into_iter().flatten() {
        let mut r = Msg::default();
        for (name, scopes) in req.as_object().into_iter().flatten() {
            let mut arr = Msg::default();
            arr.strings(1, scopes);
            r.message(1, named(name, arr));
        }
        m.message(12, r);
    }
    let mut sec_defs = Msg::default();
    for (name, d) in doc["securityDefinitions"].as_object().into_iter().flatten() {
        let mut key = Msg::default();
        key.str_of(1, &d["type"]);
        key.str_of(2, &d["name"]);
        key.str_of(3, &d["in"]);
        key.str_of(4, &d["description"]);
        let mut item = Msg::default();
        item.message(2, key);
        sec_defs.message(1, named(name, item));
    }
    m.message(13, sec_defs);
    m.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Reads the top-level fields of a message as (field number, payload) pairs.
    fn fields(mut b: &[u8]) -> Vec<(u64, Vec<u8>)> {
        fn varint(b: &mut &[u8]) -> u64 {
            let (mut v, mut shift) = (0u64, 0);
            loop {
                let byte = b[0];
                *b = &b[1..];
                v |= u64::from(byte & 0x7f) << shift;
                if byte < 0x80 {
                    return v;
                }
                shift += 7;
            }
        }
        let mut out = Vec::new();
        while !b.is_empty() {
            let key = varint(&mut b);
            match key & 7 {
                0 => out.push((key >> 3, varint(&mut b).to_le_bytes().to_vec())),
                1 => {
                    out.push((key >> 3, b[..8].to_vec()));
                    b = &b[8..];
                }
                2 => {
                    let len = varint(&mut b) as usize;
                    out.push((key >> 3, b[..len].to_vec()));
                    b = &b[len..];
                }
                t => panic!("unexpected wire type {t}"),
            }
        }
        out
    }

    #[test]
    fn varints_and_strings_follow_the_wire_format() {
        let mut m = Msg::default();
        m.varint(300);
        assert_eq!(m.0, vec![0xac, 0x02]);
        let mut m = Msg::default();
        m.string(1, "2.0");
        assert_eq!(m.0, vec![0x0a, 3, b'2', b'.', b'0']);
    }

    #[test]
    fn definitions_keep_names_refs_and_extensions() {
        let doc = json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.33.0"},
            "paths": {},
            "definitions": {"io.k8s.api.apps.v1.Deployment": {
                "type": "object",
                "properties": {"spec": {"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"}},
                "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Deployment", "version": "v1"}],
            }},
        });
        let bytes = encode_document(&doc);
        let top = fields(&bytes);
        assert_eq!(top[0], (1, b"2.0".to_vec()));
        let defs = &top.iter().find(|(f, _)| *f == 9).expect("definitions").1;
        let named = &fields(defs)[0].1;
        let parts = fields(named);
        assert_eq!(parts[0], (1, b"io.k8s.api.apps.v1.Deployment".to_vec()));
        let s = fields(&parts[1].1);
        let type_item = fields(&s.iter().find(|(f, _)| *f == 22).unwrap().1);
        assert_eq!(type_item[0].1, b"object".to_vec());
        let ext = fields(&s.iter().find(|(f, _)| *f == 31).unwrap().1);
        assert_eq!(ext[0].1, b"x-kubernetes-group-version-kind".to_vec());
        let yaml = fields(&ext[1].1);
        let v: Value = serde_json::from_slice(&yaml[0].1).unwrap();
        assert_eq!(v[0]["kind"], "Deployment");
    }
}
