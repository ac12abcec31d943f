//! What happens to an event between the recorder and the apiserver (upstream's
//! `EventCorrelator`, client-go `tools/record/events_cache.go`), kept free of I/O so it can
//! be tested with a hand-driven clock:
//!
//! - **aggregation**: events alike in all but their message (same source, object, type and
//!   reason) that come in more than [`AGGREGATE_MAX_EVENTS`] distinct messages within
//!   [`AGGREGATE_INTERVAL_SECS`] are folded into one event whose message is prefixed
//!   [`COMBINED_PREFIX`];
//! - **deduplication**: an event identical to one already written (message included) bumps
//!   that event's `count` and `lastTimestamp` with a patch instead of creating a new object;
//! - **spam filtering**: each source may write [`SPAM_BURST`] events about one object at
//!   once, then one every five minutes (a token bucket per source and object).
//!
//! Every cache is bounded to [`CACHE_ENTRIES`] entries, least recently used out first.

use std::collections::HashSet;

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::ObjectMeta;
use serde_json::json;

use super::lru::Lru;

/// Entries per cache (upstream's `maxLruCacheEntries`).
pub const CACHE_ENTRIES: usize = 4096;
/// Distinct messages of similar events that trigger aggregation.
pub const AGGREGATE_MAX_EVENTS: usize = 10;
/// How long similar events are remembered for aggregation.
pub const AGGREGATE_INTERVAL_SECS: i64 = 600;
/// Prefix of an aggregated event's message.
pub const COMBINED_PREFIX: &str = "(combined from similar events): ";
/// Events a source may write about one object at once.
pub const SPAM_BURST: f64 = 25.0;
/// Rate the spam budget refills at: one event per five minutes.
pub const SPAM_QPS: f64 = 1.0 / 300.0;

/// What to send to the apiserver for one recorded event.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// A new Event object.
    Create(Event),
    /// A repeat: merge-patch `patch` (count, lastTimestamp, message) into the existing
    /// event named by `event`; `event` is the full object, created instead when the old
    /// one is gone.
    Patch {
        event: Event,
        patch: serde_json::Value,
    },
}

impl Write {
    /// The event as it should look on the server after this write.
    pub fn event(&self) -> &Event {
        match self {
            Write::Create(e) | Write::Patch { event: e, .. } => e,
        }
    }
}

/// Similar events seen lately: their distinct messages and when the last one came.
#[derive(Debug, Default)]
struct Aggregate {
    messages: HashSet<String>,
    last: Option<Timestamp>,
}

/// The event last written under a key.
#[derive(Clone, Debug)]
struct Observation {
    count: i32,
    first_timestamp: Option<Time>,
    name: Option<String>,
    resource_version: Option<String>,
}

/// A token bucket: `tokens` left as of `at`.
#[derive(Clone, Copy, Debug)]
struct TokenBucket {
    tokens: f64,
    at: Timestamp,
}

/// The state of one recorder's correlation.
#[derive(Debug)]
pub struct Correlator {
    aggregates: Lru<Aggregate>,
    observations: Lru<Observation>,
    spam: Lru<TokenBucket>,
}

impl Default for Correlator {
    fn default() -> Self {
        Correlator {
            aggregates: Lru::new(CACHE_ENTRIES),
            observations: Lru::new(CACHE_ENTRIES),
            spam: Lru::new(CACHE_ENTRIES),
        }
    }
}

fn text(field: &Option<String>) -> &str {
    field.as_deref().unwrap_or("")
}

/// Joins key fields with a separator no name or reason contains, so that distinct field
/// values never make the same key.
fn join(fields: &[&str]) -> String {
    fields.join("\u{1f}")
}

/// The source and the involved object (without field path): whose events these are.
fn source_and_object(e: &Event) -> Vec<&str> {
    let source = e.source.as_ref();
    let o = &e.involved_object;
    vec![
        source.map_or("", |s| text(&s.component)),
        source.map_or("", |s| text(&s.host)),
        text(&o.kind),
        text(&o.namespace),
        text(&o.name),
        text(&o.uid),
        text(&o.api_version),
    ]
}

/// What makes two events the same event: source, involved object (with field path),
/// type, reason and message.
pub fn event_key(e: &Event) -> String {
    let mut fields = source_and_object(e);
    fields.extend([
        text(&e.involved_object.field_path),
        text(&e.type_),
        text(&e.reason),
        text(&e.message),
    ]);
    join(&fields)
}

/// What makes two events similar (upstream's `EventAggregatorByReasonFunc`): everything
/// but the message and the field path, plus the reporting controller and instance.
pub fn aggregate_key(e: &Event) -> String {
    let mut fields = source_and_object(e);
    fields.extend([
        text(&e.type_),
        text(&e.reason),
        text(&e.reporting_component),
        text(&e.reporting_instance),
    ]);
    join(&fields)
}

/// Whose budget an event spends: the source and the object.
pub fn spam_key(e: &Event) -> String {
    join(&source_and_object(e))
}

/// `<name>.<unix nanoseconds in hex>`: the name upstream gives every new event.
pub fn event_name(object_name: &str, at: Timestamp) -> String {
    format!("{object_name}.{:x}", at.as_nanosecond() as i64)
}

impl Correlator {
    /// Decide how `event`, recorded at `now`, reaches the apiserver; `None` when the spam
    /// filter drops it.
    pub fn correlate(&mut self, event: Event, now: Timestamp) -> Option<Write> {
        let (event, key) = self.aggregate(event, now);
        let write = self.observe(event, &key);
        self.spam_allows(write.event(), now).then_some(write)
    }

    /// Remember the event as the server returned it (name, count, resourceVersion), so the
    /// next repeat patches that object.
    pub fn update_state(&mut self, written: &Event) {
        self.observations.insert(
            &event_key(written),
            Observation {
                count: written.count.unwrap_or(1),
                first_timestamp: written.first_timestamp.clone(),
                name: written.metadata.name.clone(),
                resource_version: written.metadata.resource_version.clone(),
            },
        );
    }

    /// Count `event` among its similar events; past the threshold, return the aggregate
    /// event in its place. The key returned is what deduplication files it under.
    fn aggregate(&mut self, event: Event, now: Timestamp) -> (Event, String) {
        let full_key = event_key(&event);
        let group = aggregate_key(&event);
        let mut record = self
            .aggregates
            .get_mut(&group)
            .map(std::mem::take)
            .filter(|r| {
                r.last.is_some_and(|last| {
                    now.as_second() - last.as_second() <= AGGREGATE_INTERVAL_SECS
                })
            })
            .unwrap_or_default();
        record.messages.insert(text(&event.message).to_string());
        record.last = Some(now);
        let over = record.messages.len() >= AGGREGATE_MAX_EVENTS;
        if over {
            // Keep the set from growing past the threshold; which message goes is moot.
            if let Some(any) = record.messages.iter().next().cloned() {
                record.messages.remove(&any);
            }
        }
        self.aggregates.insert(&group, record);
        if !over {
            return (event, full_key);
        }
        let at = Time(now);
        let combined = Event {
            metadata: ObjectMeta {
                name: Some(event_name(text(&event.involved_object.name), now)),
                namespace: event.metadata.namespace.clone(),
                ..Default::default()
            },
            count: Some(1),
            first_timestamp: Some(at.clone()),
            last_timestamp: Some(at),
            message: Some(format!("{COMBINED_PREFIX}{}", text(&event.message))),
            involved_object: event.involved_object,
            type_: event.type_,
            reason: event.reason,
            source: event.source,
            ..Default::default()
        };
        (combined, group)
    }

    /// A first sighting under `key` is created; a repeat becomes a patch of the event
    /// already written, one count higher.
    fn observe(&mut self, mut event: Event, key: &str) -> Write {
        let last = self
            .observations
            .get_mut(key)
            .filter(|o| o.count > 0)
            .cloned();
        let write = match last {
            Some(last) => {
                event.metadata.name = last.name;
                event.metadata.resource_version = last.resource_version;
                event.first_timestamp = last.first_timestamp;
                event.count = Some(last.count.saturating_add(1));
                let patch = json!({
                    "count": event.count,
                    "lastTimestamp": event.last_timestamp,
                    "message": event.message,
                });
                Write::Patch {
                    event: event.clone(),
                    patch,
                }
            }
            None => Write::Create(event.clone()),
        };
        self.observations.insert(
            key,
            Observation {
                count: event.count.unwrap_or(1),
                first_timestamp: event.first_timestamp,
                name: event.metadata.name,
                resource_version: event.metadata.resource_version,
            },
        );
        write
    }

    /// Take one token from the bucket of the event's source and object.
    fn spam_allows(&mut self, event: &Event, now: Timestamp) -> bool {
        let key = spam_key(event);
        let mut bucket = self.spam.get_mut(&key).copied().unwrap_or(TokenBucket {
            tokens: SPAM_BURST,
            at: now,
        });
        let elapsed = (now.as_millisecond() - bucket.at.as_millisecond()).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * SPAM_QPS).min(SPAM_BURST);
        bucket.at = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed {
            bucket.tokens -= 1.0;
        }
        self.spam.insert(&key, bucket);
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{EventSource, ObjectReference};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).expect("valid timestamp")
    }

    fn event(uid: &str, reason: &str, message: &str, now: Timestamp) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(event_name("web", now)),
                namespace: Some("default".into()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some("apps/v1".into()),
                kind: Some("ReplicaSet".into()),
                name: Some("web".into()),
                namespace: Some("default".into()),
                uid: Some(uid.into()),
                ..Default::default()
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            type_: Some("Normal".into()),
            source: Some(EventSource {
                component: Some("replicaset-controller".into()),
                host: None,
            }),
            count: Some(1),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            reporting_component: Some("replicaset-controller".into()),
            reporting_instance: Some(String::new()),
            ..Default::default()
        }
    }

    #[test]
    fn keys_tell_identical_from_similar_events() {
        let a = event("u1", "SuccessfulCreate", "Created pod: web-a", at(0));
        let same_later = event("u1", "SuccessfulCreate", "Created pod: web-a", at(5));
        let other_message = event("u1", "SuccessfulCreate", "Created pod: web-b", at(0));
        let other_object = event("u2", "SuccessfulCreate", "Created pod: web-a", at(0));
        let mut in_container = a.clone();
        in_container.involved_object.field_path = Some("spec.containers{app}".into());

        assert_eq!(event_key(&a), event_key(&same_later));
        assert_ne!(event_key(&a), event_key(&other_message));
        assert_ne!(event_key(&a), event_key(&other_object));
        assert_ne!(event_key(&a), event_key(&in_container));
        // Similar: only the message (or field path) differs.
        assert_eq!(aggregate_key(&a), aggregate_key(&other_message));
        assert_eq!(aggregate_key(&a), aggregate_key(&in_container));
        assert_ne!(aggregate_key(&a), aggregate_key(&other_object));
        assert_eq!(spam_key(&a), spam_key(&other_message));
    }

    #[test]
    fn a_repeat_patches_the_first_event_with_a_higher_count() {
        let mut c = Correlator::default();
        let first = c
            .correlate(event("u1", "Rescale", "New size: 3", at(0)), at(0))
            .expect("allowed");
        let Write::Create(created) = &first else {
            panic!("first sighting must be created: {first:?}");
        };
        let first_name = created.metadata.name.clone();

        let second = c
            .correlate(event("u1", "Rescale", "New size: 3", at(10)), at(10))
            .expect("allowed");
        let Write::Patch { event: e, patch } = &second else {
            panic!("a repeat must be a patch: {second:?}");
        };
        assert_eq!(e.metadata.name, first_name);
        assert_eq!(e.count, Some(2));
        assert_eq!(e.first_timestamp, Some(Time(at(0))));
        assert_eq!(patch["count"], json!(2));
        assert_eq!(patch["message"], json!("New size: 3"));
        assert_eq!(patch["lastTimestamp"], json!(Time(at(10))));

        // The server's answer is what the next repeat builds on.
        let mut stored = e.clone();
        stored.count = Some(7);
        stored.metadata.resource_version = Some("42".into());
        c.update_state(&stored);
        let third = c
            .correlate(event("u1", "Rescale", "New size: 3", at(20)), at(20))
            .expect("allowed");
        assert_eq!(third.event().count, Some(8));
        assert_eq!(
            third.event().metadata.resource_version.as_deref(),
            Some("42")
        );
    }

    #[test]
    fn a_different_message_is_a_different_event() {
        let mut c = Correlator::default();
        let a = c.correlate(
            event("u1", "SuccessfulRescale", "New size: 3; reason: cpu", at(0)),
            at(0),
        );
        let b = c.correlate(
            event("u1", "SuccessfulRescale", "New size: 1; reason: cpu", at(1)),
            at(1),
        );
        assert!(matches!(a, Some(Write::Create(_))));
        let Some(Write::Create(b)) = b else {
            panic!("a new message must create a new event: {b:?}");
        };
        assert_eq!(b.message.as_deref(), Some("New size: 1; reason: cpu"));
        assert_eq!(b.count, Some(1));
    }

    #[test]
    fn the_tenth_distinct_message_within_ten_minutes_is_aggregated() {
        let mut c = Correlator::default();
        for i in 0..9 {
            let w = c.correlate(
                event(
                    "u1",
                    "SuccessfulCreate",
                    &format!("Created pod: p{i}"),
                    at(i),
                ),
                at(i),
            );
            assert!(
                matches!(w, Some(Write::Create(ref e)) if e.message.as_deref() == Some(format!("Created pod: p{i}").as_str()))
            );
        }
        let tenth = c
            .correlate(
                event("u1", "SuccessfulCreate", "Created pod: p9", at(9)),
                at(9),
            )
            .expect("allowed");
        let Write::Create(combined) = &tenth else {
            panic!("the first aggregate is created: {tenth:?}");
        };
        assert_eq!(
            combined.message.as_deref(),
            Some("(combined from similar events): Created pod: p9")
        );
        assert_eq!(combined.reason.as_deref(), Some("SuccessfulCreate"));
        assert_eq!(combined.count, Some(1));
        // Later similar events bump the aggregate, whatever their message.
        let eleventh = c
            .correlate(
                event("u1", "SuccessfulCreate", "Created pod: p10", at(10)),
                at(10),
            )
            .expect("allowed");
        let Write::Patch { event: e, patch } = &eleventh else {
            panic!("the aggregate is patched: {eleventh:?}");
        };
        assert_eq!(e.metadata.name, combined.metadata.name);
        assert_eq!(e.count, Some(2));
        assert_eq!(
            patch["message"],
            json!("(combined from similar events): Created pod: p10")
        );
    }

    #[test]
    fn similar_events_further_apart_than_the_window_are_not_aggregated() {
        let mut c = Correlator::default();
        for i in 0..9 {
            c.correlate(event("u1", "R", &format!("m{i}"), at(i)), at(i));
        }
        let later = at(9 + AGGREGATE_INTERVAL_SECS + 1);
        let w = c
            .correlate(event("u1", "R", "m9", later), later)
            .expect("allowed");
        assert_eq!(w.event().message.as_deref(), Some("m9"));
    }

    #[test]
    fn a_source_may_burst_then_writes_one_event_per_five_minutes_per_object() {
        let mut c = Correlator::default();
        let allowed = (0..30)
            .filter(|i| {
                c.correlate(event("u1", &format!("R{i}"), "m", at(0)), at(0))
                    .is_some()
            })
            .count();
        assert_eq!(allowed, SPAM_BURST as usize);
        // Another object has its own budget.
        assert!(c.correlate(event("u2", "R", "m", at(0)), at(0)).is_some());
        assert!(c
            .correlate(event("u1", "R30", "m", at(299)), at(299))
            .is_none());
        assert!(c
            .correlate(event("u1", "R31", "m", at(301)), at(301))
            .is_some());
    }
}
