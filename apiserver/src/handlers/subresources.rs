//! Subresources: `status`, a CSR's `approval`, `scale`, `pods/ephemeralcontainers`,
//! `pods/binding`, `pods/eviction`, `namespaces/finalize`, `serviceaccounts/token`
//! (TokenRequest, in `authn::token_request`).
//! (The kubelet's subresources are in `handlers::kubelet`.)

use api_types::catalog::ResourceInfo;
use http::{header, Request, Response};
use hyper::body::Incoming;
use serde_json::{json, Value};

use super::response::{self, Body, Representation};
use super::rest::render_object;
use super::{body, ApiServer};
use crate::errors::{success_status, ApiError};
use crate::request::{Query, RequestInfo};
use crate::selectors::LabelSelector;
use crate::store::write::PatchType;
use crate::store::{meta, Mutation, RequestContext};

#[allow(clippy::too_many_arguments)]
pub(super) async fn serve(
    server: &ApiServer,
    req: Request<Incoming>,
    res: &'static ResourceInfo,
    ns: Option<&str>,
    info: &RequestInfo,
    sub: &str,
    query: &Query,
    ctx: &RequestContext,
    repr: Representation,
) -> Result<Response<Body>, ApiError> {
    let store = &server.store;
    let max = server.config.max_request_body_bytes;
    let name = info.name.as_deref().unwrap_or_default();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let verb = info.verb.as_str();
    match (sub, verb) {
        ("status", "get")
        | ("approval", "get")
        | ("ephemeralcontainers", "get")
        | ("resize", "get") => {
            let obj = store.get(res, ns, name).await?;
            Ok(render_object(res, repr, query, &obj, 200))
        }
        // A CSR's `approval` is a status write limited to the conditions (its strategy); a
        // Pod's `ephemeralcontainers` write changes only `spec.ephemeralContainers` (its
        // strategy keeps the rest of the old Pod).
        ("status" | "approval" | "ephemeralcontainers", "update") => {
            let bytes = body::read(req.into_body(), max).await?;
            let obj = body::decode_object(content_type.as_deref(), &bytes)?;
            let r = store.update(res, ns, name, obj, Some(sub), ctx).await?;
            Ok(render_object(res, repr, query, &r.object, 200))
        }
        ("status" | "approval" | "ephemeralcontainers", "patch") => {
            let pt = body::patch_type(content_type.as_deref(), query.flag("force"))?;
            let bytes = body::read(req.into_body(), max).await?;
            let doc = body::decode_patch(pt, &bytes)?;
            let r = store.patch(res, ns, name, pt, doc, Some(sub), ctx).await?;
            Ok(render_object(res, repr, query, &r.object, 200))
        }
        ("scale", "get") => {
            let obj = store.get(res, ns, name).await?;
            Ok(response::json(200, &to_scale(res, &obj)?))
        }
        ("scale", "update") | ("scale", "patch") => {
            let bytes = body::read(req.into_body(), max).await?;
            let pt = if verb == "patch" {
                Some(body::patch_type(content_type.as_deref(), false)?)
            } else {
                None
            };
            let doc = match pt {
                Some(pt) => body::decode_patch(pt, &bytes)?,
                None => body::decode_object(content_type.as_deref(), &bytes)?,
            };
            let r = store
                .guaranteed_update(res, ns, name, None, ctx, |current, _rev| {
                    let Some(old) = current else {
                        return Err(ApiError::not_found(res.group, res.plural, name));
                    };
                    let scale = to_scale(res, &old)?;
                    let new_scale = match pt {
                        None => doc.clone(),
                        Some(PatchType::Json) => crate::patch::json_patch(&scale, &doc)
                            .map_err(|e| ApiError::bad_request(e.to_string()))?,
                        Some(_) => crate::patch::merge_patch(&scale, &doc)
                            .map_err(|e| ApiError::bad_request(e.to_string()))?,
                    };
                    if let Some(want) = new_scale
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                    {
                        if pt.is_none()
                            && !want.is_empty()
                            && Some(want)
                                != old
                                    .pointer("/metadata/resourceVersion")
                                    .and_then(Value::as_str)
                        {
                            return Err(ApiError::stale(res.group, res.plural, name));
                        }
                    }
                    let replicas = new_scale
                        .pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(0);
                    if replicas < 0 {
                        return Err(ApiError::invalid(
                            "autoscaling",
                            "Scale",
                            name,
                            &[crate::errors::FieldError::invalid(
                                "spec.replicas",
                                replicas,
                                "must be greater than or equal to 0",
                            )],
                        ));
                    }
                    let mut new = old.clone();
                    new["spec"]["replicas"] = json!(replicas);
                    store.finish_update(res, old, new, None, ctx)
                })
                .await?;
            Ok(response::json(200, &to_scale(res, &r.object)?))
        }
        ("binding", "create") => {
            let bytes = body::read(req.into_body(), max).await?;
            let binding = body::decode_object(content_type.as_deref(), &bytes)?;
            bind(server, ns, name, &binding, ctx).await?;
            Ok(response::json(201, &success_status(json!({}))))
        }
        ("eviction", "create") => {
            let bytes = body::read(req.into_body(), max).await?;
            let eviction = body::decode_object(content_type.as_deref(), &bytes)?;
            match super::eviction::evict(server, ns, name, &eviction, ctx).await? {
                super::eviction::Outcome::Evicted => {
                    Ok(response::json(201, &success_status(json!({}))))
                }
                super::eviction::Outcome::MultipleBudgets => Err(ApiError::unknown(
                    500,
                    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                )),
            }
        }
        ("token", "create") => {
            let bytes = body::read(req.into_body(), max).await?;
            let request = if bytes.iter().all(u8::is_ascii_whitespace) {
                json!({})
            } else {
                body::decode_object(content_type.as_deref(), &bytes)?
            };
            let ns = ns.unwrap_or_default();
            let out = crate::authn::token_request::create(server, ns, name, &request, ctx.dry_run)
                .await?;
            Ok(response::json(201, &out))
        }
        ("finalize", "update") => {
            let bytes = body::read(req.into_body(), max).await?;
            let obj = body::decode_object(content_type.as_deref(), &bytes)?;
            let finalizers = obj
                .pointer("/spec/finalizers")
                .cloned()
                .unwrap_or(json!([]));
            let r = store
                .guaranteed_update(res, None, name, None, ctx, |current, _rev| {
                    let Some(old) = current else {
                        return Err(ApiError::not_found(res.group, res.plural, name));
                    };
                    let mut new = old.clone();
                    new["spec"]["finalizers"] = finalizers.clone();
                    let empty = finalizers.as_array().is_none_or(|f| f.is_empty());
                    let meta_empty = new
                        .pointer("/metadata/finalizers")
                        .and_then(Value::as_array)
                        .is_none_or(|f| f.is_empty());
                    if empty && meta_empty && new.pointer("/metadata/deletionTimestamp").is_some() {
                        return Ok(Mutation::Delete(new));
                    }
                    if new == old {
                        return Ok(Mutation::Unchanged(old));
                    }
                    Ok(Mutation::Write(new))
                })
                .await?;
            Ok(render_object(res, repr, query, &r.object, 200))
        }
        // pods/log, exec, attach, portforward and nodes/proxy never get here (handlers::kubelet).
        ("proxy", _) => Err(ApiError::unavailable(format!(
            "{}/proxy is not supported by this apiserver yet",
            res.plural
        ))),
        _ => Err(ApiError::method_not_supported(
            res.group,
            &format!("{}/{sub}", res.plural),
            verb,
        )),
    }
}

/// The `autoscaling/v1 Scale` view of a scalable object.
fn to_scale(res: &ResourceInfo, obj: &Value) -> Result<Value, ApiError> {
    let selector = match obj.pointer("/spec/selector") {
        Some(s) if res.plural == "replicationcontrollers" => {
            let m = s.as_object().cloned().unwrap_or_default();
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        }
        Some(s) => LabelSelector::from_json(s)
            .map(|l| l.to_query())
            .unwrap_or_default(),
        None => String::new(),
    };
    let m = obj.get("metadata").cloned().unwrap_or_default();
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m.get("name"),
            "namespace": m.get("namespace"),
            "uid": m.get("uid"),
            "resourceVersion": m.get("resourceVersion"),
            "creationTimestamp": m.get("creationTimestamp"),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)},
        "status": {"replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0), "selector": selector},
    }))
}

/// Bind a pod to a node (`pods/binding`, `bindings`): sets `spec.nodeName` once.
async fn bind(
    server: &ApiServer,
    ns: Option<&str>,
    url_name: &str,
    binding: &Value,
    ctx: &RequestContext,
) -> Result<(), ApiError> {
    let pods = api_types::catalog::find("", "v1", "pods").expect("pods are in the catalog");
    let pod_name = meta::meta_str(binding, "name")
        .filter(|n| !n.is_empty())
        .unwrap_or(url_name)
        .to_string();
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if node.is_empty() {
        return Err(ApiError::invalid(
            "",
            "Binding",
            &pod_name,
            &[crate::errors::FieldError::required("target.name", "")],
        ));
    }
    let uid_precondition = binding
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .map(String::from);
    server
        .store
        .guaranteed_update(pods, ns, &pod_name, None, ctx, |current, _rev| {
            let Some(old) = current else { return Err(ApiError::not_found("", "pods", &pod_name)) };
            if let Some(uid) = &uid_precondition {
                if meta::meta_str(&old, "uid") != Some(uid.as_str()) {
                    return Err(ApiError::conflict("", "pods", &pod_name, "the UID in the binding does not match the pod"));
                }
            }
            if old.pointer("/metadata/deletionTimestamp").is_some() {
                return Err(ApiError::conflict("", "pods", &pod_name, "pod is being deleted, cannot be assigned to a host"));
            }
            if let Some(existing) = old.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
                return Err(ApiError::conflict("", "pods", &pod_name, &format!("pod {pod_name} is already assigned to node \"{existing}\"")));
            }
            let mut new = old.clone();
            new["spec"]["nodeName"] = json!(node);
            let cond = json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": meta::now()});
            let conds = new["status"]["conditions"].as_array().cloned().unwrap_or_default();
            let mut conds: Vec<Value> = conds.into_iter().filter(|c| c.get("type") != Some(&json!("PodScheduled"))).collect();
            conds.push(cond);
            new["status"]["conditions"] = Value::Array(conds);
            // Binding writes spec and status together, bypassing the status split.
            let strategy = crate::registry::strategies::for_resource(pods);
            strategy.default(&mut new);
            Ok(Mutation::Write(new))
        })
        .await?;
    Ok(())
}
