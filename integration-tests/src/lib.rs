//! Harness for the integration tests: starts a private etcd and kube-apiserver on free
//! loopback ports and gives tests an HTTPS client with admin credentials.
