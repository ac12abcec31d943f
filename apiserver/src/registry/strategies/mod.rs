//! One strategy per resource. Resources without special rules use [`Plain`].

use api_types::catalog::ResourceInfo;

use super::Strategy;

/// A resource with no defaulting or validation beyond the generic metadata checks.
pub struct Plain;
impl Strategy for Plain {}

/// The strategy for a resource.
pub fn for_resource(_res: &ResourceInfo) -> &'static dyn Strategy {
    &Plain
}
