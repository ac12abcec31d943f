//! Label and field selectors (`labelSelector=`, `fieldSelector=` query parameters).

pub mod fields;
pub mod labels;

pub use fields::FieldSelector;
pub use labels::LabelSelector;
