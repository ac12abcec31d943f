//! APIServices, printed as upstream's aggregator prints them: the Service (`<ns>/<name>`, or
//! `Local` for built-in groups) and the Available condition (`True`, or `False (<reason>)`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::format::{age, array_at, name, s, str_at};
use super::{Column, Printer, AGE, NAME};

const APISERVICE: &[Column] = &[
    NAME,
    Column::new(
        "Service",
        "string",
        "The reference to the service that hosts this API endpoint.",
    ),
    Column::new("Available", "string", "Whether this service is available."),
    AGE,
];

fn apiservice(a: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let service = match a.pointer("/spec/service").filter(|v| v.is_object()) {
        Some(_) => format!(
            "{}/{}",
            str_at(a, "/spec/service/namespace"),
            str_at(a, "/spec/service/name")
        ),
        None => "Local".to_string(),
    };
    let available = array_at(a, "/status/conditions")
        .iter()
        .find(|c| c["type"] == "Available")
        .map(|c| match (str_at(c, "/status"), str_at(c, "/reason")) {
            ("True", _) => "True".to_string(),
            (status, "") => status.to_string(),
            (status, reason) => format!("{status} ({reason})"),
        })
        .unwrap_or_else(|| "Unknown".to_string());
    vec![name(a), s(service), s(available), age(a, now)]
}

/// The printer of `apiregistration.k8s.io` resources.
pub fn printer(plural: &str) -> Option<Printer> {
    (plural == "apiservices").then(|| Printer::new(APISERVICE, apiservice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn service_and_availability_columns() {
        let now = Utc::now();
        let remote = json!({"metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}});
        let cells = apiservice(&remote, now);
        assert_eq!(cells[1], "kube-system/metrics-server");
        assert_eq!(cells[2], "False (MissingEndpoints)");
        let local = json!({"metadata": {"name": "v1.apps"}, "spec": {},
            "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local"}]}});
        let cells = apiservice(&local, now);
        assert_eq!(cells[1], "Local");
        assert_eq!(cells[2], "True");
    }
}
