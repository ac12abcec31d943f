//! The sync loop: on a change (rate-limited by `--min-sync-period`) or every
//! `--sync-period`, rebuild the model from the informers, render it, and apply the difference
//! to the kernel in one transaction.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::changes::{build_model, ChangeTracker, NodeSettings};
use crate::conntrack::{stale_flows, Conntrack};
use crate::health::ProxierHealth;
use crate::informers::Informers;
use crate::metrics::Metrics;
use crate::model::ProxyModel;
use crate::nft::{Nft, NftError};
use crate::render::render;
use crate::ruleset::{Ruleset, SyncKind};
use crate::service_health::{health_check_ports, ServiceHealthServer};

/// Sync timing.
#[derive(Debug, Clone, Copy)]
pub struct SyncPeriods {
    /// Least time between two syncs (`--min-sync-period`).
    pub min: Duration,
    /// Time between full rewrites (`--sync-period`).
    pub full: Duration,
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
    /// The ruleset the kernel has; `None` when unknown (start-up, failed transaction), which
    /// makes the next sync replace the table.
    applied: Option<Ruleset>,
    /// The model behind the last rules that were applied, to find UDP flows they made stale.
    applied_model: Option<ProxyModel>,
    conntrack: Conntrack,
    service_health: Option<ServiceHealthServer>,
    last_full: Instant,
}

impl Proxier {
    /// A proxier that has not synced yet.
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
            applied: None,
            applied_model: None,
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

    fn next_kind(&self) -> SyncKind {
        match &self.applied {
            None => SyncKind::Replace,
            Some(_) if self.last_full.elapsed() >= self.periods.full => SyncKind::Full,
            Some(_) => SyncKind::Partial,
        }
    }

    /// One sync of the kind the state calls for.
    pub async fn sync(&mut self) -> Result<SyncKind, NftError> {
        let kind = self.next_kind();
        let start = Instant::now();
        let pending = self.tracker.take_pending();
        let services = self.informers.services.state();
        let slices = self.informers.slices.state();
        let model = build_model(
            &self.settings,
            services.iter().map(|s| s.as_ref()),
            slices.iter().map(|s| s.as_ref()),
        );
        let ruleset = render(&model);
        let empty = Ruleset::default();
        let text = ruleset.transaction(kind, self.applied.as_ref().unwrap_or(&empty));
        let result = self.nft.apply(&text).await;
        let seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(()) => {
                self.metrics.sync_duration.observe(seconds);
                self.metrics
                    .sync_duration_by_kind
                    .with_label_values(&[kind.as_str()])
                    .observe(seconds);
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
                tracing::debug!(
                    kind = kind.as_str(),
                    service_ports = model.services.len(),
                    lines = text.lines().count(),
                    seconds,
                    "synced proxy rules"
                );
                if kind != SyncKind::Partial {
                    self.last_full = Instant::now();
                }
                self.applied = Some(ruleset);
                self.after_sync(model).await;
                Ok(kind)
            }
            Err(e) => {
                self.metrics.sync_failures.inc();
                self.applied = None;
                Err(e)
            }
        }
    }

    /// What follows programmed rules: health-check ports follow the Services, and UDP flows
    /// DNATed to endpoints the rules no longer use are cleared.
    async fn after_sync(&mut self, model: ProxyModel) {
        if let Some(server) = self.service_health.as_mut() {
            server.sync(health_check_ports(&model)).await;
        }
        if let Some(old) = &self.applied_model {
            let flows = stale_flows(old, &model);
            if !flows.is_empty() {
                self.conntrack.clear(&flows).await;
            }
        }
        self.applied_model = Some(model);
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
            let retry = if self.applied.is_none() {
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
