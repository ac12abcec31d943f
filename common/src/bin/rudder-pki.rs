//! rudder-pki: generates the cluster PKI for hack/local-up-cluster.sh and the integration tests.
//!
//! ```text
//! rudder-pki init --dir D                      # ca, apiserver serving cert, admin client cert,
//!                                              # service account key pair (sa.key, sa.pub),
//!                                              # front-proxy-ca and front-proxy-client
//! rudder-pki client --dir D --cn NAME --group G [--group G2]
//! rudder-pki kubeconfig --dir D --server https://127.0.0.1:6443 --user admin --out D/admin.kubeconfig
//! ```
//! Every command is idempotent: an existing CA is reused unless `--force`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use common::pki::{self, Ca};

/// Upstream's serving-certificate names for the apiserver (kubeadm's list plus localhost).
const DEFAULT_APISERVER_DNS: &str = "localhost,kubernetes,kubernetes.default,kubernetes.default.svc,kubernetes.default.svc.cluster.local";

#[derive(Parser)]
#[command(
    name = "rudder-pki",
    about = "Generate the certificates of a Rudder cluster"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create (or reuse) the CA and issue the apiserver serving and admin client certificates.
    Init(InitArgs),
    /// Issue a client certificate for a user and its groups.
    Client(ClientArgs),
    /// Write a kubeconfig that embeds the CA and a user's client certificate.
    Kubeconfig(KubeconfigArgs),
}

#[derive(Args)]
struct InitArgs {
    /// Directory holding ca.crt, ca.key, apiserver.crt, apiserver.key, admin.crt, admin.key.
    #[arg(long)]
    dir: PathBuf,
    /// IP addresses the apiserver is reached at (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    apiserver_ip: Vec<IpAddr>,
    /// DNS names the apiserver is reached at (comma separated).
    #[arg(long, value_delimiter = ',', default_value = DEFAULT_APISERVER_DNS)]
    apiserver_dns: Vec<String>,
    /// ClusterIP of the `kubernetes` Service (first address of --service-cluster-ip-range).
    #[arg(long, default_value = "10.96.0.1")]
    service_ip: IpAddr,
    /// Regenerate everything, including an existing CA.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct ClientArgs {
    /// Directory holding ca.crt and ca.key; the certificate is written there too.
    #[arg(long)]
    dir: PathBuf,
    /// User name (certificate Common Name).
    #[arg(long)]
    cn: String,
    /// Group (certificate Organization); repeat for a second group.
    #[arg(long = "group")]
    groups: Vec<String>,
    /// File stem for NAME.crt / NAME.key (default: the CN with ':' replaced by '-').
    #[arg(long)]
    name: Option<String>,
    /// Re-issue even when the files exist.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct KubeconfigArgs {
    /// Directory holding ca.crt and USER.crt / USER.key.
    #[arg(long)]
    dir: PathBuf,
    /// The apiserver URL.
    #[arg(long, default_value = "https://127.0.0.1:6443")]
    server: String,
    /// Which issued certificate to embed (file stem in --dir).
    #[arg(long, default_value = "admin")]
    user: String,
    /// Context (and cluster) name.
    #[arg(long, default_value = "rudder")]
    context: String,
    /// Output path (default: DIR/USER.kubeconfig).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Init(args) => init(&args),
        Command::Client(args) => client(&args),
        Command::Kubeconfig(args) => kubeconfig(&args),
    }
}

fn init(args: &InitArgs) -> Result<()> {
    let (ca, fresh_ca) = load_or_create_ca(&args.dir, "ca", "kubernetes", args.force)?;
    let reissue = fresh_ca || args.force;

    let mut ips = args.apiserver_ip.clone();
    if !ips.contains(&args.service_ip) {
        ips.push(args.service_ip);
    }
    let dns: Vec<String> = args
        .apiserver_dns
        .iter()
        .filter(|d| !d.is_empty())
        .cloned()
        .collect();
    issue_if_needed(&args.dir, "apiserver", reissue, || {
        ca.issue_server("kube-apiserver", &dns, &ips)
    })?;
    issue_if_needed(&args.dir, "admin", reissue, || {
        ca.issue_client("kubernetes-admin", &["system:masters".to_string()])
    })?;
    // The service account token key pair, as kubeadm lays it out (sa.key / sa.pub).
    let (sa_key, sa_pub) = (args.dir.join("sa.key"), args.dir.join("sa.pub"));
    if args.force || !sa_key.exists() || !sa_pub.exists() {
        pki::ServiceAccountKey::generate()?.write(&sa_key, &sa_pub)?;
    }
    // kubeadm's front proxy: a CA of its own, so a client certificate from the cluster CA
    // can never assert X-Remote-User to an aggregated API server, and the certificate the
    // apiserver presents when it proxies to one (--proxy-client-cert-file).
    let (front_proxy_ca, fresh_front_proxy_ca) =
        load_or_create_ca(&args.dir, "front-proxy-ca", "front-proxy-ca", args.force)?;
    issue_if_needed(
        &args.dir,
        "front-proxy-client",
        fresh_front_proxy_ca || args.force,
        || front_proxy_ca.issue_client("front-proxy-client", &[]),
    )?;
    println!("PKI ready in {}", args.dir.display());
    Ok(())
}

fn client(args: &ClientArgs) -> Result<()> {
    let ca = Ca::load_files(&args.dir.join("ca.crt"), &args.dir.join("ca.key"))
        .context("run `rudder-pki init` first")?;
    let stem = args
        .name
        .clone()
        .unwrap_or_else(|| args.cn.replace(':', "-"));
    if stem.is_empty() || stem.contains('/') {
        bail!("invalid certificate name {stem:?}");
    }
    issue_if_needed(&args.dir, &stem, args.force, || {
        ca.issue_client(&args.cn, &args.groups)
    })?;
    println!("{}", args.dir.join(format!("{stem}.crt")).display());
    Ok(())
}

fn kubeconfig(args: &KubeconfigArgs) -> Result<()> {
    let ca_pem = pki::read_file(&args.dir.join("ca.crt"))?;
    let issued = pki::IssuedCert {
        cert_pem: pki::read_file(&args.dir.join(format!("{}.crt", args.user)))?,
        key_pem: pki::read_file(&args.dir.join(format!("{}.key", args.user)))?,
    };
    let text = pki::kubeconfig(&args.server, &ca_pem, &args.user, &issued, &args.context);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.join(format!("{}.kubeconfig", args.user)));
    // A kubeconfig holds a private key: owner-only.
    pki::write_key_pem(&out, &text)?;
    println!("{}", out.display());
    Ok(())
}

/// Reuse DIR/STEM.{crt,key} when both exist (and not `force`); otherwise generate a new CA
/// named `cn`. Returns whether the CA is new, in which case its leaves must be re-issued.
fn load_or_create_ca(dir: &Path, stem: &str, cn: &str, force: bool) -> Result<(Ca, bool)> {
    let (crt, key) = (
        dir.join(format!("{stem}.crt")),
        dir.join(format!("{stem}.key")),
    );
    if !force && crt.exists() && key.exists() {
        let ca = Ca::load_files(&crt, &key)?;
        return Ok((ca, false));
    }
    let ca = Ca::generate(cn)?;
    ca.write(&crt, &key)?;
    Ok((ca, true))
}

/// Issue DIR/STEM.{crt,key} unless both already exist and `reissue` is false.
fn issue_if_needed(
    dir: &Path,
    stem: &str,
    reissue: bool,
    issue: impl FnOnce() -> std::result::Result<pki::IssuedCert, pki::PkiError>,
) -> Result<()> {
    let (crt, key) = (
        dir.join(format!("{stem}.crt")),
        dir.join(format!("{stem}.key")),
    );
    if !reissue && crt.exists() && key.exists() {
        return Ok(());
    }
    issue()?.write(&crt, &key)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init_args(dir: &Path, force: bool) -> InitArgs {
        InitArgs {
            dir: dir.to_path_buf(),
            apiserver_ip: vec!["127.0.0.1".parse().unwrap()],
            apiserver_dns: vec!["localhost".into()],
            service_ip: "10.96.0.1".parse().unwrap(),
            force,
        }
    }

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    #[test]
    fn init_makes_a_separate_front_proxy_ca_and_its_client() {
        let dir = tempfile::tempdir().unwrap();
        init(&init_args(dir.path(), false)).unwrap();
        let front = read(dir.path(), "front-proxy-ca.crt");
        assert_ne!(front, read(dir.path(), "ca.crt"), "a CA of its own");
        let client = read(dir.path(), "front-proxy-client.crt");
        let (_, ca_pem) = x509_parser::pem::parse_x509_pem(front.as_bytes()).unwrap();
        let ca_cert = ca_pem.parse_x509().unwrap();
        let (_, client_pem) = x509_parser::pem::parse_x509_pem(client.as_bytes()).unwrap();
        let client_cert = client_pem.parse_x509().unwrap();
        client_cert
            .verify_signature(Some(ca_cert.public_key()))
            .expect("client signed by the front-proxy CA");
        let cn: Vec<_> = client_cert.subject().iter_common_name().collect();
        assert_eq!(cn[0].as_str().unwrap(), "front-proxy-client");
        init(&init_args(dir.path(), false)).unwrap();
        assert_eq!(read(dir.path(), "front-proxy-client.crt"), client, "kept");
    }

    #[test]
    fn init_is_idempotent_and_force_regenerates() {
        let dir = tempfile::tempdir().unwrap();
        init(&init_args(dir.path(), false)).unwrap();
        let (ca, admin) = (read(dir.path(), "ca.crt"), read(dir.path(), "admin.crt"));

        let sa = read(dir.path(), "sa.key");
        assert!(sa.contains("BEGIN PRIVATE KEY"));
        assert!(read(dir.path(), "sa.pub").contains("BEGIN PUBLIC KEY"));

        init(&init_args(dir.path(), false)).unwrap();
        assert_eq!(
            read(dir.path(), "sa.key"),
            sa,
            "existing service account key kept"
        );
        assert_eq!(read(dir.path(), "ca.crt"), ca, "existing CA kept");
        assert_eq!(read(dir.path(), "admin.crt"), admin, "existing leaf kept");

        init(&init_args(dir.path(), true)).unwrap();
        assert_ne!(read(dir.path(), "ca.crt"), ca, "--force makes a new CA");
        assert_ne!(
            read(dir.path(), "admin.crt"),
            admin,
            "leaves re-issued with it"
        );
    }

    #[test]
    fn kubeconfig_and_client_use_the_init_pki() {
        let dir = tempfile::tempdir().unwrap();
        init(&init_args(dir.path(), false)).unwrap();
        client(&ClientArgs {
            dir: dir.path().to_path_buf(),
            cn: "system:node:n1".into(),
            groups: vec!["system:nodes".into()],
            name: None,
            force: false,
        })
        .unwrap();
        assert!(dir.path().join("system-node-n1.crt").is_file());
        let out = dir.path().join("n1.kubeconfig");
        kubeconfig(&KubeconfigArgs {
            dir: dir.path().to_path_buf(),
            server: "https://127.0.0.1:6443".into(),
            user: "system-node-n1".into(),
            context: "rudder".into(),
            out: Some(out.clone()),
        })
        .unwrap();
        let text = std::fs::read_to_string(out).unwrap();
        assert!(text.contains("current-context: \"rudder\""));
        assert!(text.contains("name: \"system-node-n1\""));
    }

    #[test]
    fn client_refuses_a_path_as_name() {
        let dir = tempfile::tempdir().unwrap();
        init(&init_args(dir.path(), false)).unwrap();
        let err = client(&ClientArgs {
            dir: dir.path().to_path_buf(),
            cn: "x".into(),
            groups: vec![],
            name: Some("../escape".into()),
            force: false,
        });
        assert!(err.is_err());
    }
}
