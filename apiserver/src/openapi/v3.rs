//! Converting the swagger 2.0 parts (definitions and paths) into their OpenAPI 3.0 form for
//! the per group-version documents under `/openapi/v3/`.

use serde_json::{json, Map, Value};

const V2_PREFIX: &str = "#/definitions/";
const V3_PREFIX: &str = "#/components/schemas/";

/// A schema in OpenAPI 3.0 form: refs point into `components/schemas`, and a `$ref` with
/// siblings (a field's own description) becomes `allOf: [{$ref}]` next to them, as upstream
/// publishes it (OpenAPI 3.0 ignores siblings of `$ref`).
pub(crate) fn schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            let mut reference = None;
            for (k, x) in m {
                if k == "$ref" {
                    let r = x.as_str().unwrap_or_default();
                    reference = Some(match r.strip_prefix(V2_PREFIX) {
                        Some(name) => format!("{V3_PREFIX}{name}"),
                        None => r.to_string(),
                    });
                } else {
                    out.insert(k.clone(), schema(x));
                }
            }
            match reference {
                Some(r) if out.is_empty() => json!({"$ref": r}),
                Some(r) => {
                    out.insert("allOf".into(), json!([{"$ref": r}]));
                    Value::Object(out)
                }
                None => Value::Object(out),
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(schema).collect()),
        other => other.clone(),
    }
}

fn parameter(p: &Value) -> Value {
    let mut s = Map::new();
    for key in ["type", "uniqueItems"] {
        if let Some(v) = p.get(key) {
            s.insert(key.into(), v.clone());
        }
    }
    let mut out = json!({
        "name": p["name"],
        "in": p["in"],
        "schema": Value::Object(s),
    });
    if let Some(d) = p.get("description") {
        out["description"] = d.clone();
    }
    if p["required"] == true {
        out["required"] = json!(true);
    }
    out
}

fn content(mimes: &Value, s: &Value) -> Value {
    let converted = schema(s);
    let mut c = Map::new();
    for m in mimes.as_array().into_iter().flatten() {
        if let Some(m) = m.as_str() {
            c.insert(m.to_string(), json!({"schema": converted}));
        }
    }
    Value::Object(c)
}

fn operation(op: &Value) -> Value {
    let mut out = Map::new();
    let mut params = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        if p["in"] == "body" {
            let mut body = json!({"content": content(&op["consumes"], &p["schema"])});
            if p["required"] == true {
                body["required"] = json!(true);
            }
            out.insert("requestBody".into(), body);
        } else {
            params.push(parameter(p));
        }
    }
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }
    let mut responses = Map::new();
    for (code, r) in op["responses"].as_object().into_iter().flatten() {
        let mut resp = json!({"description": r["description"]});
        if let Some(s) = r.get("schema") {
            resp["content"] = content(&op["produces"], s);
        }
        responses.insert(code.clone(), resp);
    }
    out.insert("responses".into(), Value::Object(responses));
    for (k, v) in op.as_object().into_iter().flatten() {
        if matches!(k.as_str(), "description" | "operationId" | "tags") || k.starts_with("x-") {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// A path item in OpenAPI 3.0 form.
pub(crate) fn path_item(item: &Value) -> Value {
    let mut out = Map::new();
    for (k, v) in item.as_object().into_iter().flatten() {
        if k == "parameters" {
            let params: Vec<Value> = v.as_array().into_iter().flatten().map(parameter).collect();
            out.insert(k.clone(), Value::Array(params));
        } else {
            out.insert(k.clone(), operation(v));
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_with_descriptions_become_all_of() {
        let v = json!({"properties": {
            "spec": {"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec", "description": "d"},
            "items": {"type": "array", "items": {"$ref": "#/definitions/X"}},
        }});
        let s = schema(&v);
        assert_eq!(
            s["properties"]["spec"],
            json!({"allOf": [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}], "description": "d"})
        );
        assert_eq!(
            s["properties"]["items"]["items"],
            json!({"$ref": "#/components/schemas/X"})
        );
    }

    #[test]
    fn body_parameters_become_request_bodies() {
        let op = json!({
            "consumes": ["application/merge-patch+json"],
            "produces": ["application/json"],
            "parameters": [
                {"in": "body", "name": "body", "required": true, "schema": {"$ref": "#/definitions/P"}},
                {"in": "query", "name": "fieldValidation", "type": "string", "uniqueItems": true},
            ],
            "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/D"}}},
            "x-kubernetes-action": "patch",
        });
        let v3 = operation(&op);
        assert_eq!(
            v3["requestBody"]["content"]["application/merge-patch+json"]["schema"]["$ref"],
            "#/components/schemas/P"
        );
        assert_eq!(v3["parameters"][0]["name"], "fieldValidation");
        assert_eq!(v3["parameters"][0]["in"], "query");
        assert_eq!(v3["parameters"][0]["schema"]["type"], "string");
        assert_eq!(
            v3["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/D"
        );
        assert_eq!(v3["x-kubernetes-action"], "patch");
    }
}
