//! OpenAPI v2 (`/openapi/v2`) and v3 (`/openapi/v3`, `/openapi/v3/<path>`) documents generated
//! from the k8s-openapi schemas and the catalog.
