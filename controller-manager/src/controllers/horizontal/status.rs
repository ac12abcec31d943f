//! The HPA's status as the controller writes it: conditions (AbleToScale, ScalingActive,
//! ScalingLimited) with upstream's transition-time rule, and metric values as quantities.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerCondition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Set (or add) condition `type_`; its lastTransitionTime moves only when the status
/// changes, as upstream's `setConditionInList`.
pub fn set_condition(
    conditions: &mut Vec<HorizontalPodAutoscalerCondition>,
    type_: &str,
    status: bool,
    reason: &str,
    message: String,
    now: &Time,
) {
    let status = if status { "True" } else { "False" };
    let i = match conditions.iter().position(|c| c.type_ == type_) {
        Some(i) => i,
        None => {
            conditions.push(HorizontalPodAutoscalerCondition {
                type_: type_.to_string(),
                ..Default::default()
            });
            conditions.len() - 1
        }
    };
    let c = &mut conditions[i];
    if c.status != status {
        c.last_transition_time = Some(now.clone());
    }
    c.status = status.to_string();
    c.reason = Some(reason.to_string());
    c.message = Some(message);
}

/// A milli-unit amount as a DecimalSI quantity (upstream's `NewMilliQuantity(v,
/// DecimalSI).String()`): `900m`, `2`, `150k`.
pub fn milli_quantity(v: i64) -> String {
    if v % 1000 != 0 {
        return format!("{v}m");
    }
    let mut whole = v / 1000;
    let mut suffix = 0;
    const SUFFIXES: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];
    while whole != 0 && whole % 1000 == 0 && suffix < SUFFIXES.len() - 1 {
        whole /= 1000;
        suffix += 1;
    }
    format!("{whole}{}", SUFFIXES[suffix])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(s).expect("time"))
    }

    #[test]
    fn transition_time_moves_only_on_status_change() {
        let mut cs = Vec::new();
        set_condition(
            &mut cs,
            "AbleToScale",
            true,
            "SucceededGetScale",
            "a".into(),
            &at(1),
        );
        set_condition(
            &mut cs,
            "AbleToScale",
            true,
            "ReadyForNewScale",
            "b".into(),
            &at(2),
        );
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].last_transition_time, Some(at(1)));
        assert_eq!(cs[0].reason.as_deref(), Some("ReadyForNewScale"));
        set_condition(
            &mut cs,
            "AbleToScale",
            false,
            "FailedGetScale",
            "c".into(),
            &at(3),
        );
        assert_eq!(cs[0].last_transition_time, Some(at(3)));
    }

    #[test]
    fn milli_quantities_print_as_decimal_si() {
        assert_eq!(milli_quantity(900), "900m");
        assert_eq!(milli_quantity(2000), "2");
        assert_eq!(milli_quantity(0), "0");
        assert_eq!(milli_quantity(150_000_000), "150k");
        assert_eq!(milli_quantity(104_857_600_000), "104857600");
    }
}
