//! The REST verbs of a resource: get, list, create, update, patch, delete, deletecollection.

use std::sync::Arc;

use api_types::catalog::{self, ResourceInfo};
use http::{header, Request, Response};
use hyper::body::Incoming;
use serde_json::{json, Value};

use super::response::{self, Body, Representation};
use super::{body, subresources, ApiServer};
use crate::authn::UserInfo;
use crate::errors::{success_status, ApiError};
use crate::printers::{self, IncludeObject};
use crate::request::{Query, RequestInfo};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::storage::Object;
use crate::store::delete::{DeleteOptions, DeleteResult};
use crate::store::{FieldValidation, ListOptions, RequestContext};

/// Resources whose delete answers with the deleted object rather than a success `Status`
/// (upstream's `ReturnDeletedObject` stores). Typed clients rely on it: the Python client
/// decodes `delete_namespaced_service`'s answer as a V1Service.
const RETURNS_DELETED_OBJECT: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "podtemplates"),
    ("", "resourcequotas"),
    ("", "services"),
    ("", "serviceaccounts"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
    ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "csidrivers"),
    ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "volumeattachments"),
    ("storage.k8s.io", "volumeattributesclasses"),
    ("resource.k8s.io", "deviceclasses"),
    ("resource.k8s.io", "devicetaintrules"),
    ("resource.k8s.io", "resourceclaims"),
    ("resource.k8s.io", "resourceclaimtemplates"),
    ("resource.k8s.io", "resourceslices"),
];

fn returns_deleted_object(res: &ResourceInfo) -> bool {
    RETURNS_DELETED_OBJECT.contains(&(res.group, res.plural))
}

/// Find the resource a request names, or a 404 that says so.
pub(super) fn resolve(info: &RequestInfo) -> Result<&'static ResourceInfo, ApiError> {
    let res = catalog::find(&info.group, &info.version, &info.resource)
        .ok_or_else(ApiError::path_not_found)?;
    // A namespaced resource outside a namespace can only be listed or watched.
    if res.namespaced && info.namespace.is_none() && !matches!(info.verb.as_str(), "list" | "watch")
    {
        return Err(ApiError::path_not_found());
    }
    if !res.namespaced && info.namespace.is_some() && res.plural != "namespaces" {
        return Err(ApiError::path_not_found());
    }
    Ok(res)
}

fn header_str(req: &Request<Incoming>, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Build the request context from the query and headers.
pub(super) fn context(
    req: &Request<Incoming>,
    query: &Query,
    user: UserInfo,
) -> Result<RequestContext, ApiError> {
    let dry = query.all("dryRun");
    if dry.iter().any(|d| d != "All" && !d.is_empty()) {
        return Err(ApiError::bad_request(format!(
            "Invalid dryRun value: {:?}; supported values: \"All\"",
            dry
        )));
    }
    let given = query.non_empty("fieldManager");
    if let Some(m) = given {
        if m.len() > 128 {
            return Err(ApiError::bad_request(
                "fieldManager: Too long: may not be more than 128 bytes",
            ));
        }
    }
    Ok(RequestContext {
        user,
        dry_run: dry.iter().any(|d| d == "All"),
        field_manager: given
            .map(String::from)
            .unwrap_or_else(|| crate::store::context_manager(header_str(req, header::USER_AGENT))),
        field_manager_given: given.is_some(),
        field_validation: FieldValidation::parse(query.get("fieldValidation"))?,
        warnings: Default::default(),
    })
}

/// List options from the query, with the resource's field labels.
pub(super) fn list_options(
    res: &'static ResourceInfo,
    query: &Query,
) -> Result<ListOptions, ApiError> {
    let labels = LabelSelector::parse(query.get("labelSelector").unwrap_or_default())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse_for(query.get("fieldSelector").unwrap_or_default(), res)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let limit = match query.non_empty("limit") {
        Some(l) => l
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?
            .max(0),
        None => 0,
    };
    Ok(ListOptions {
        labels,
        fields,
        limit,
        continue_token: query.non_empty("continue").map(String::from),
        resource_version: query.get("resourceVersion").map(String::from),
        resource_version_match: query.non_empty("resourceVersionMatch").map(String::from),
    })
}

fn include_object(query: &Query) -> IncludeObject {
    match query.get("includeObject") {
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        _ => IncludeObject::Metadata,
    }
}

/// Render one object per the negotiated representation.
pub(super) fn render_object(
    res: &ResourceInfo,
    repr: Representation,
    query: &Query,
    obj: &Value,
    code: u16,
) -> Response<Body> {
    match repr {
        Representation::Object => response::json(code, obj),
        Representation::PartialMetadata => response::json(
            code,
            &printers::row_object(res, obj, IncludeObject::Metadata),
        ),
        Representation::Table => {
            let meta = json!({"resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!(""))});
            response::json(
                code,
                &printers::to_table(res, &[obj], include_object(query), meta, chrono::Utc::now()),
            )
        }
    }
}

/// Serialize a list without building one big `Value`.
fn render_list(
    res: &ResourceInfo,
    repr: Representation,
    query: &Query,
    items: &[Arc<Object>],
    list_meta: Value,
) -> Response<Body> {
    match repr {
        Representation::Table => {
            let refs: Vec<&Value> = items.iter().map(|a| a.value()).collect();
            response::json(
                200,
                &printers::to_table(
                    res,
                    &refs,
                    include_object(query),
                    list_meta,
                    chrono::Utc::now(),
                ),
            )
        }
        Representation::PartialMetadata => {
            let metas: Vec<Value> = items
                .iter()
                .map(|o| printers::row_object(res, o, IncludeObject::Metadata))
                .collect();
            response::json(
                200,
                &json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta, "items": metas}),
            )
        }
        Representation::Object => {
            // Each item's bytes were produced once, when it entered the cache.
            let mut buf =
                Vec::with_capacity(items.iter().map(|i| i.json().len() + 1).sum::<usize>() + 256);
            buf.extend_from_slice(b"{\"kind\":");
            let _ = serde_json::to_writer(&mut buf, &res.list_kind());
            buf.extend_from_slice(b",\"apiVersion\":");
            let _ = serde_json::to_writer(&mut buf, &res.api_version());
            buf.extend_from_slice(b",\"metadata\":");
            let _ = serde_json::to_writer(&mut buf, &list_meta);
            buf.extend_from_slice(b",\"items\":[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                buf.extend_from_slice(item.json());
            }
            buf.extend_from_slice(b"]}");
            response::bytes(200, "application/json", buf)
        }
    }
}

/// Serve a resource request (everything but watch).
pub async fn serve(
    server: &ApiServer,
    req: Request<Incoming>,
    info: &RequestInfo,
    query: &Query,
    user: UserInfo,
) -> Result<Response<Body>, ApiError> {
    let res = resolve(info)?;
    let repr = response::negotiate(header_str(&req, header::ACCEPT))?;
    let ns = if res.namespaced {
        info.namespace.as_deref()
    } else {
        None
    };
    let mut ctx = context(&req, query, user)?;
    let verb = info.verb.as_str();
    if let Some(sub) = info.subresource.as_deref() {
        let Some(sub_info) = res.subresource(sub) else {
            return Err(ApiError::path_not_found());
        };
        if !sub_info.verbs.contains(&verb) {
            return Err(ApiError::method_not_supported(
                res.group,
                &format!("{}/{sub}", res.plural),
                verb,
            ));
        }
        let mut resp =
            subresources::serve(server, req, res, ns, info, sub, query, &ctx, repr).await?;
        response::add_warnings(&mut resp, &ctx.take_warnings());
        return Ok(resp);
    }
    // authorization.k8s.io reviews are answered by the authorizer, never stored.
    if crate::authz::review::is_review(res.group, res.plural) && info.verb == "create" {
        let content_type = header_str(&req, header::CONTENT_TYPE).map(String::from);
        let bytes = body::read(req.into_body(), server.config.max_request_body_bytes).await?;
        let obj = body::decode_object(content_type.as_deref(), &bytes)?;
        let answer =
            crate::authz::review::create(&server.authorizer, &ctx.user, res.plural, ns, &obj)?;
        return Ok(render_object(res, repr, query, &answer, 201));
    }
    // `bindings` (core) is pods/binding by another path.
    if res.group.is_empty() && res.plural == "bindings" {
        return subresources::serve(server, req, res, ns, info, "binding", query, &ctx, repr).await;
    }
    if !res.supports(verb) {
        return Err(ApiError::method_not_supported(res.group, res.plural, verb));
    }
    // TokenReview and SelfSubjectReview are answered, not stored.
    if crate::authn::reviews::is_review(res.group, res.plural) {
        return crate::authn::reviews::serve(server, req, res.plural, &ctx).await;
    }
    let store = &server.store;
    let name = info.name.as_deref().unwrap_or_default();
    let max = server.config.max_request_body_bytes;
    let content_type = header_str(&req, header::CONTENT_TYPE).map(String::from);
    let mut resp = match verb {
        "get" => {
            let obj = store.get(res, ns, name).await?;
            render_object(res, repr, query, &obj, 200)
        }
        "list" => {
            let opts = list_options(res, query)?;
            let listed = store.list(res, ns, &opts).await?;
            render_list(res, repr, query, &listed.items, listed.list_meta())
        }
        "create" => {
            let bytes = body::read(req.into_body(), max).await?;
            let obj = decode_checked(&ctx, content_type.as_deref(), &bytes)?;
            let created = store.create(res, ns, obj, &ctx).await?;
            render_object(res, repr, query, &created, 201)
        }
        "update" => {
            let bytes = body::read(req.into_body(), max).await?;
            let obj = decode_checked(&ctx, content_type.as_deref(), &bytes)?;
            let r = store.update(res, ns, name, obj, None, &ctx).await?;
            render_object(
                res,
                repr,
                query,
                &r.object,
                if r.created { 201 } else { 200 },
            )
        }
        "patch" => {
            let pt = body::patch_type(content_type.as_deref(), query.flag("force"))?;
            if matches!(pt, crate::store::write::PatchType::Apply { .. })
                && !ctx.field_manager_given
            {
                return Err(ApiError::bad_request(
                    "PATCH, application/apply-patch+yaml requires fieldManager parameter",
                ));
            }
            if !matches!(pt, crate::store::write::PatchType::Apply { .. })
                && query.get("force").is_some()
            {
                return Err(ApiError::bad_request(
                    "force: Forbidden: may not be specified for non-apply patch",
                ));
            }
            let bytes = body::read(req.into_body(), max).await?;
            let doc = body::decode_patch(pt, &bytes)?;
            let r = store.patch(res, ns, name, pt, doc, None, &ctx).await?;
            render_object(
                res,
                repr,
                query,
                &r.object,
                if r.created { 201 } else { 200 },
            )
        }
        "delete" => {
            let opts = delete_options(req, query, max).await?;
            ctx.dry_run |= opts.dry_run;
            match store.delete(res, ns, name, &opts, &ctx).await? {
                DeleteResult::Deleted(obj) if returns_deleted_object(res) => {
                    render_object(res, Representation::Object, query, &obj, 200)
                }
                DeleteResult::Deleted(obj) => {
                    let uid = obj.pointer("/metadata/uid").cloned().unwrap_or(Value::Null);
                    let mut details = json!({"name": name, "kind": res.plural, "uid": uid});
                    if !res.group.is_empty() {
                        details["group"] = json!(res.group);
                    }
                    response::json(200, &success_status(details))
                }
                DeleteResult::Pending(obj) => {
                    render_object(res, Representation::Object, query, &obj, 202)
                }
            }
        }
        "deletecollection" => {
            let list_opts = list_options(res, query)?;
            let opts = delete_options(req, query, max).await?;
            ctx.dry_run |= opts.dry_run;
            let deleted = store
                .delete_collection(res, ns, &list_opts, &opts, &ctx)
                .await?;
            let items: Vec<Arc<Object>> = deleted
                .into_iter()
                .map(|v| Arc::new(Object::new(v)))
                .collect();
            render_list(res, Representation::Object, query, &items, json!({}))
        }
        other => return Err(ApiError::method_not_supported(res.group, res.plural, other)),
    };
    response::add_warnings(&mut resp, &ctx.take_warnings());
    Ok(resp)
}

/// Decode an object body; JSON bodies are also checked for duplicate fields, which
/// `fieldValidation=Strict` rejects and `Warn` reports (YAML decoding refuses them itself).
fn decode_checked(
    ctx: &RequestContext,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<Value, ApiError> {
    let obj = body::decode_object(content_type, bytes)?;
    let is_json = content_type.is_none_or(|c| c.trim_start().starts_with("application/json"));
    if is_json && ctx.field_validation != FieldValidation::Ignore {
        let dups = super::duplicates::duplicate_fields(bytes);
        if !dups.is_empty() && ctx.field_validation == FieldValidation::Strict {
            let list = dups
                .iter()
                .map(|d| format!("duplicate field \"{d}\""))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ApiError::bad_request(format!(
                "strict decoding error: {list}"
            )));
        }
        for d in dups {
            ctx.warn(format!("duplicate field \"{d}\""));
        }
    }
    Ok(obj)
}

/// `DeleteOptions` from body and query (query wins, as upstream).
pub(super) async fn delete_options(
    req: Request<Incoming>,
    query: &Query,
    max: usize,
) -> Result<DeleteOptions, ApiError> {
    // client-go ≥ 1.31 sends DeleteOptions as protobuf, like the objects it creates.
    let content_type = header_str(&req, header::CONTENT_TYPE).map(String::from);
    let bytes = body::read(req.into_body(), max).await?;
    let mut opts = if bytes.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else {
        DeleteOptions::from_json(&body::decode_object(content_type.as_deref(), &bytes)?)?
    };
    if let Some(g) = query.non_empty("gracePeriodSeconds") {
        opts.grace_period = Some(
            g.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid gracePeriodSeconds {g:?}")))?,
        );
    }
    if let Some(p) = query.non_empty("propagationPolicy") {
        opts.propagation = Some(
            DeleteOptions::from_json(&json!({"propagationPolicy": p}))?
                .propagation
                .unwrap_or_default(),
        );
    }
    Ok(opts)
}
