//! Admission: the checks and mutations that need more than the object itself — namespace
//! lifecycle (no new content in missing or terminating namespaces), service address
//! allocation (ClusterIPs and NodePorts, without duplicates under concurrency), the pod
//! plugins (LimitRanger, ServiceAccount, Priority, DefaultTolerationSeconds) and
//! DefaultStorageClass for claims, StorageObjectInUseProtection's finalizers on claims and
//! volumes; and the
//! validating checks that depend on who writes — NodeRestriction for kubelets and RBAC
//! escalation prevention for Roles and bindings; ResourceQuota charging creates.

pub mod certificates;
pub mod default_storage_class;
pub mod default_tolerations;
pub mod limit_ranger;
mod lookup;
mod namespace_lifecycle;
pub mod node_restriction;
pub mod plugin_config;
pub mod pod_security;
pub mod priority;
mod resource_quota;
pub mod service_account;
mod service_alloc;
mod service_health_check;
pub mod storage_protection;

pub use service_alloc::{Allocations, ServiceRanges};

use std::sync::Arc;

use api_types::catalog::ResourceInfo;
use serde_json::Value;

use crate::authn::UserInfo;
use crate::authz::{Authorizer, Mode};
use crate::errors::ApiError;
use crate::store::Store;

fn is_csr(res: &ResourceInfo) -> bool {
    res.group == "certificates.k8s.io" && res.plural == "certificatesigningrequests"
}

/// The admission chain's configuration.
pub struct Admission {
    /// Service ClusterIP and NodePort ranges.
    pub ranges: ServiceRanges,
    /// Whether the ServiceAccount plugin runs (on by default, as upstream).
    pub service_account: bool,
    /// Whether LimitRanger runs (on by default).
    pub limit_ranger: bool,
    /// Whether Priority runs (on by default).
    pub priority: bool,
    /// DefaultTolerationSeconds: the not-ready and unreachable toleration seconds, `None`
    /// when the plugin is off.
    pub default_toleration_seconds: Option<(i64, i64)>,
    /// Whether DefaultStorageClass runs (on by default).
    pub default_storage_class: bool,
    /// Whether StorageObjectInUseProtection runs (on by default).
    pub storage_object_in_use_protection: bool,
    /// The authorizer (escalation checks ask it; NodeRestriction is on with the Node mode).
    pub authorizer: Arc<Authorizer>,
    /// Whether the ResourceQuota plugin runs (on by default, as upstream).
    pub resource_quota: bool,
    /// PodSecurity's configuration; `None` when the plugin is off (it is on by default, as
    /// upstream since 1.25).
    pub pod_security: Option<pod_security::PodSecurityConfig>,
    /// Whether CertificateApproval runs (on by default).
    pub certificate_approval: bool,
    /// Whether CertificateSigning runs (on by default).
    pub certificate_signing: bool,
    /// Whether CertificateSubjectRestriction runs (on by default).
    pub certificate_subject_restriction: bool,
}

impl Admission {
    /// Validating checks of a create (`old = None`) or update by `user`: NodeRestriction (when
    /// the Node authorizer is on) and RBAC escalation prevention (when RBAC is on).
    pub fn validate_write(
        &self,
        res: &ResourceInfo,
        ns: Option<&str>,
        obj: &Value,
        old: Option<&Value>,
        user: &UserInfo,
    ) -> Result<(), ApiError> {
        if self.authorizer.modes().contains(&Mode::Node) {
            node_restriction::admit_write(user, res, ns, obj, old)?;
        }
        if res.group == "rbac.authorization.k8s.io" {
            self.authorizer
                .check_rbac_write(user, res.plural, ns, obj, old)?;
        }
        if old.is_none() && self.certificate_subject_restriction && is_csr(res) {
            certificates::admit_create(obj)?;
        }
        Ok(())
    }

    /// Validating checks of an update through a subresource: CertificateApproval for a
    /// CSR's `/approval`, CertificateSigning for its `/status`.
    pub fn validate_subresource_write(
        &self,
        res: &ResourceInfo,
        subresource: &str,
        new: &Value,
        old: &Value,
        user: &UserInfo,
    ) -> Result<(), ApiError> {
        if !is_csr(res) {
            return Ok(());
        }
        let on = match subresource {
            "approval" => self.certificate_approval,
            "status" => self.certificate_signing,
            _ => false,
        };
        if on {
            certificates::admit_update(&self.authorizer, user, subresource, new, old)?;
        }
        Ok(())
    }

    /// PodSecurity, a validating step of creates and updates: refuses pods that violate
    /// their namespace's enforced level and warns about pods and workload templates that
    /// violate its warn level.
    pub fn pod_security(
        &self,
        store: &Store,
        res: &ResourceInfo,
        ns: Option<&str>,
        obj: &Value,
        old: Option<&Value>,
        ctx: &crate::store::RequestContext,
    ) -> Result<(), ApiError> {
        if let Some(config) = &self.pod_security {
            pod_security::admit(store, config, res, ns, obj, old, ctx)?;
        }
        Ok(())
    }

    /// Validating checks of a delete by `user` (NodeRestriction).
    pub fn validate_delete(
        &self,
        res: &ResourceInfo,
        obj: &Value,
        user: &UserInfo,
    ) -> Result<(), ApiError> {
        if self.authorizer.modes().contains(&Mode::Node) {
            node_restriction::admit_delete(user, res, obj)?;
        }
        Ok(())
    }

    /// Refuse content in a namespace that does not exist or is terminating.
    pub async fn namespace_exists(
        &self,
        store: &Store,
        res: &ResourceInfo,
        ns: Option<&str>,
    ) -> Result<(), ApiError> {
        namespace_lifecycle::check(store, res, ns).await
    }

    /// Mutating admission on create. Returns the allocations made, which the caller keeps on
    /// success and releases on failure.
    pub async fn admit_create(
        &self,
        store: &Store,
        res: &ResourceInfo,
        obj: &mut Value,
    ) -> Result<Allocations, ApiError> {
        if res.group.is_empty() && res.plural == "services" {
            return service_alloc::allocate_for_create(store, &self.ranges, obj).await;
        }
        let ns = crate::store::meta::meta_str(obj, "namespace")
            .unwrap_or_default()
            .to_string();
        // Upstream's plugin order: LimitRanger, ServiceAccount, Priority,
        // DefaultTolerationSeconds, DefaultStorageClass, StorageObjectInUseProtection.
        if res.group.is_empty() && res.plural == "pods" {
            if self.limit_ranger {
                limit_ranger::admit_pod(store, &ns, obj)?;
            }
            if self.service_account {
                service_account::admit_pod(store, &ns, obj).await?;
            }
            if self.priority {
                priority::admit_pod(store, obj)?;
            }
            if let Some((not_ready, unreachable)) = self.default_toleration_seconds {
                default_tolerations::admit_pod(obj, not_ready, unreachable);
            }
        }
        if self.default_storage_class
            && res.group.is_empty()
            && res.plural == "persistentvolumeclaims"
        {
            default_storage_class::admit_pvc(store, obj);
        }
        if self.storage_object_in_use_protection && res.group.is_empty() {
            if let Some(finalizer) = storage_protection::finalizer_for(res.plural) {
                storage_protection::add_finalizer(obj, finalizer);
            }
        }
        if self.priority && res.group == "scheduling.k8s.io" && res.plural == "priorityclasses" {
            priority::admit_priority_class(store, obj)?;
        }
        Ok(Allocations::default())
    }

    /// ResourceQuota, the last validating step of a create (as upstream orders it): charges
    /// the object — with everything mutating admission added — to its namespace's quotas, or
    /// refuses it when a quota would be exceeded.
    pub async fn charge_quota(
        &self,
        store: &Store,
        res: &ResourceInfo,
        obj: &Value,
    ) -> Result<(), ApiError> {
        if self.resource_quota {
            resource_quota::admit_create(store, res, obj).await?;
        }
        Ok(())
    }

    /// Mutating admission on update: services keep their allocated addresses and get node
    /// ports for new ports.
    pub async fn admit_update(
        &self,
        store: &Store,
        res: &ResourceInfo,
        new: &mut Value,
        old: &Value,
    ) -> Result<Allocations, ApiError> {
        if res.group.is_empty() && res.plural == "services" {
            return service_alloc::allocate_for_update(store, &self.ranges, new, old).await;
        }
        if self.priority && res.group == "scheduling.k8s.io" && res.plural == "priorityclasses" {
            priority::admit_priority_class(store, new)?;
        }
        Ok(Allocations::default())
    }

    /// After an update was written: free what the old object held and the new one does not.
    pub async fn after_update(&self, store: &Store, res: &ResourceInfo, new: &Value, old: &Value) {
        if res.group.is_empty() && res.plural == "services" {
            service_alloc::release_unused(store, new, old).await;
        }
    }

    /// Release what a deleted object held.
    pub async fn release_deleted(&self, store: &Store, res: &ResourceInfo, obj: &Value) {
        if res.group.is_empty() && res.plural == "services" {
            service_alloc::release_service(store, obj).await;
        }
    }
}
