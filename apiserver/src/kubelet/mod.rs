//! Reaching kubelets: the pod subresources `log`, `exec`, `attach`, `portforward` and the node
//! subresource `proxy` are served by the kubelet of the pod's node, and the apiserver relays
//! them ([`proxy`]) over TLS with its own client certificate ([`client`]), to the Node address
//! chosen by `--kubelet-preferred-address-types` ([`location`]), with upstream's query
//! translation ([`options`]). WebSocket clients of exec, attach and port-forward are bridged to
//! the kubelet's SPDY ([`websocket`]).

pub mod client;
pub mod location;
pub mod options;
pub mod proxy;
pub use common::spdy;
pub mod translate;
pub mod tunnel;
pub mod websocket;

pub use client::{DialError, KubeletClient, KubeletClientError};
pub use location::ConnectionInfo;
