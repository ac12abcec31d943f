//! The sync loop: on a change (rate-limited by `--min-sync-period`) or every
//! `--sync-period`, rebuild the model from the informers, render it, and apply the difference
//! to the kernel in one transaction.
//!
//! On a dual-stack node each IP family has its own table, model and applied state (upstream
//! runs one proxier per family behind a meta-proxier); one loop syncs them one after the
//! other, each in its own transaction, so a failure in one family never blocks the other.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::changes::{build_model, ChangeTracker, NodeSettings};
use crate::conntrack::{stale_flows, Conntrack};
use crate::health::ProxierHealth;
use crate::informers::Informers;
use crate::metrics::Metrics;
use crate::model::{IpFamily, ProxyModel};
use crate::nft::{Nft, NftError};
use crate::render::render;
use crate::ruleset::{Ruleset, SyncKind};
use crate::service_health::{health_check_ports, merge_health_check_ports, ServiceHealthServer};

/// Sync timing.
#[derive(Debug, Clone, Copy)]
pub struct SyncPeriods {
    /// Least time between two syncs (`--min-sync-period`).
    pub min: Duration,
    /// Time between full rewrites (`--sync-period`).
    pub full: Duration,
}

/// What one family's table holds.
struct FamilyState {
    family: IpFamily,
    /// The ruleset the kernel has; `None` when unknown (start-up, failed transaction), which
    /// makes the next sync replace the table.
    applied: Option<Ruleset>,
    /// The model behind the last rules that were applied, to find UDP flows they made stale.
    applied_model: Option<ProxyModel>,
}

/// Owns what was applied last, so the next sync can be partial.
pub struct Proxier {
    nft: Nft,
    settings: NodeSettings,
    informers: Informers,
    tracker: Arc<ChangeTracker>,
    health: Arc<ProxierHealth>,
    metrics: Metrics,
    periods: SyncPeriods,
    families: Vec<FamilyState>,
    conntrack: Conntrack,
    service_health: Option<ServiceHealthServer>,
    last_full: Instant,
}

impl FamilyState {
    fn new(family: IpFamily) -> FamilyState {
        FamilyState {
            family,
            applied: None,
            applied_model: None,
        }
    }

    fn next_kind(&self, full_due: bool) -> SyncKind {
        match &self.applied {
            None => SyncKind::Replace,
            Some(_) if full_due => SyncKind::Full,
            Some(_) => SyncKind::Partial,
        }
    }
}

impl Proxier {
    /// A proxier that has not synced yet, programming the IPv4 table only (see
    /// [`Proxier::with_families`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        nft: Nft,
        settings: NodeSettings,
        informers: Informers,
        tracker: Arc<ChangeTracker>,
        health: Arc<ProxierHealth>,
        metrics: Metrics,
        periods: SyncPeriods,
    ) -> Proxier {
        Proxier {
            nft,
            settings,
            informers,
            tracker,
            health,
            metrics,
            periods,
            families: vec![FamilyState::new(IpFamily::V4)],
            conntrack: Conntrack::new(),
            service_health: None,
            last_full: Instant::now(),
        }
    }

    /// Also serve the health-check node ports of `externalTrafficPolicy: Local` Services.
    pub fn with_service_health(mut self, server: ServiceHealthServer) -> Proxier {
        self.service_health = Some(server);
        self
    }

    /// Program these families' tables (e.g. both on a dual-stack node; IPv4 alone when the
    /// host has IPv6 disabled). Each family's table is synced in its own transaction.
    pub fn with_families(mut self, families: &[IpFamily]) -> Proxier {
        self.families = families.iter().copied().map(FamilyState::new).collect();
        self
    }

    /// The families this proxier programs.
    pub fn families(&self) -> Vec<IpFamily> {
        self.families.iter().map(|f| f.family).collect()
    }

    /// Whether some family's table is in an unknown state (to be replaced soon).
    fn any_unknown(&self) -> bool {
        self.families.iter().any(|f| f.applied.is_none())
    }

    /// One sync of every family, each of the kind its state calls for. Returns the widest
    /// kind applied (replace over full over partial), or the first family's error; the other
    /// families are synced either way.
    pub async fn sync(&mut self) -> Result<SyncKind, NftError> {
        let full_due = self.last_full.elapsed() >= self.periods.full;
        let start = Instant::now();
        let pending = self.tracker.take_pending();
        let services = self.informers.services.state();
        let slices = self.informers.slices.state();
        let mut first_error = None;
        let mut widest: Option<SyncKind> = None;
        let mut models = Vec::with_capacity(self.families.len());
        for state in &mut self.families {
            let kind = state.next_kind(full_due);
            let family_start = Instant::now();
            let model = build_model(
                &self.settings,
                state.family,
                services.iter().map(|s| s.as_ref()),
                slices.iter().map(|s| s.as_ref()),
            );
            let ruleset = render(&model);
            let empty = Ruleset::default();
            let text = ruleset.transaction(kind, state.applied.as_ref().unwrap_or(&empty));
            match self.nft.apply(&text).await {
                Ok(()) => {
                    let seconds = family_start.elapsed().as_secs_f64();
                    self.metrics.sync_duration.observe(seconds);
                    self.metrics
                        .sync_duration_by_kind
                        .with_label_values(&[kind.as_str()])
                        .observe(seconds);
                    tracing::debug!(
                        family = state.family.k8s(),
                        kind = kind.as_str(),
                        service_ports = model.services.len(),
                        lines = text.lines().count(),
                        seconds,
                        "synced proxy rules"
                    );
                    state.applied = Some(ruleset);
                    widest = Some(match widest {
                        Some(w) if w.width() >= kind.width() => w,
                        _ => kind,
                    });
                    models.push((state.family, model));
                }
                Err(e) => {
                    self.metrics.sync_failures.inc();
                    state.applied = None;
                    tracing::warn!(family = state.family.k8s(), error = %e, "nft transaction failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        if first_error.is_none() {
            let now = SystemTime::now();
            if let Ok(epoch) = now.duration_since(SystemTime::UNIX_EPOCH) {
                self.metrics.last_sync_timestamp.set(epoch.as_secs_f64());
            }
            for t in pending {
                if let Ok(d) = now.duration_since(t) {
                    self.metrics.network_programming.observe(d.as_secs_f64());
                }
            }
            self.health.updated();
            if widest != Some(SyncKind::Partial) {
                self.last_full = Instant::now();
            }
        }
        tracing::trace!(
            seconds = start.elapsed().as_secs_f64(),
            "sync of every family done"
        );
        self.after_sync(models).await;
        match first_error {
            Some(e) => Err(e),
            None => Ok(widest.unwrap_or(SyncKind::Partial)),
        }
    }

    /// What follows programmed rules: health-check ports follow the Services (of every family
    /// whose rules were applied), and UDP flows DNATed to endpoints the rules no longer use
    /// are cleared.
    async fn after_sync(&mut self, models: Vec<(IpFamily, ProxyModel)>) {
        if let Some(server) = self.service_health.as_mut() {
            let mut ports = std::collections::BTreeMap::new();
            for state in &self.families {
                let current = models
                    .iter()
                    .find(|(f, _)| *f == state.family)
                    .map(|(_, m)| m)
                    .or(state.applied_model.as_ref());
                if let Some(model) = current {
                    merge_health_check_ports(&mut ports, health_check_ports(model));
                }
            }
            server.sync(ports).await;
        }
        for (family, model) in models {
            let Some(state) = self.families.iter_mut().find(|s| s.family == family) else {
                continue;
            };
            if let Some(old) = &state.applied_model {
                let flows = stale_flows(old, &model);
                if !flows.is_empty() {
                    self.conntrack.clear(family, &flows).await;
                }
            }
            state.applied_model = Some(model);
        }
    }

    /// Sync until `shutdown` resolves. The table stays in place afterwards, so traffic keeps
    /// flowing while kube-proxy restarts (upstream's behaviour; `--cleanup` removes it).
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let started = Instant::now();
            match self.sync().await {
                Ok(kind) => tracing::trace!(kind = kind.as_str(), "sync done"),
                Err(e) => {
                    tracing::error!(error = %e, "syncing proxy rules failed; the next sync replaces the table")
                }
            }
            let wait_full = self.periods.full.saturating_sub(self.last_full.elapsed());
            let retry = if self.any_unknown() {
                // A failed transaction is retried soon, not at the next change.
                Some(self.periods.min.max(Duration::from_secs(1)))
            } else {
                None
            };
            tokio::select! {
                _ = self.tracker.changed(), if retry.is_none() => {}
                _ = tokio::time::sleep(retry.unwrap_or(wait_full)) => {}
                _ = &mut shutdown => break,
            }
            let since = started.elapsed();
            if since < self.periods.min {
                tokio::select! {
                    _ = tokio::time::sleep(self.periods.min - since) => {}
                    _ = &mut shutdown => break,
                }
            }
        }
        tracing::info!("shutting down; leaving the nftables rules in place");
    }
}
