//! Reaching the cluster: a kubeconfig when the user names one (--kubeconfig, --context,
//! $KUBECONFIG), otherwise EKS itself — DescribeCluster's endpoint and CA plus a presigned STS
//! token, refreshed in the background — so a CI job needs neither kubectl nor the aws CLI.

use super::{Kube, token};
use crate::cloud::Aws;
use crate::observed::Cluster;
use anyhow::{Context, bail};
use aws_credential_types::provider::ProvideCredentials;
use base64::Engine;
use http::{HeaderValue, Request, header::AUTHORIZATION};
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::task::{Context as TaskContext, Poll};
use std::time::SystemTime;

/// How kedactl (and helm, which it runs) reach the cluster.
#[derive(Clone)]
pub enum Access {
    /// A kubeconfig (None: $KUBECONFIG or ~/.kube/config) and an optional context in it.
    Kubeconfig {
        path: Option<PathBuf>,
        context: Option<String>,
    },
    /// Built from EKS: endpoint, CA bundle (base64 PEM, as DescribeCluster returns it), token.
    Eks {
        server: String,
        ca_data: String,
        token: Token,
    },
    /// A client handed in directly (tests); helm cannot reach it.
    Direct,
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Access::Kubeconfig { path, context } => f
                .debug_struct("Kubeconfig")
                .field("path", path)
                .field("context", context)
                .finish(),
            Access::Eks { server, .. } => f.debug_struct("Eks").field("server", server).finish(),
            Access::Direct => f.write_str("Direct"),
        }
    }
}

/// The current EKS token, replaced in the background before EKS stops accepting it.
#[derive(Clone, Default)]
pub struct Token(Arc<RwLock<String>>);

impl Token {
    pub fn current(&self) -> String {
        self.0.read().expect("token lock").clone()
    }

    fn set(&self, t: String) {
        *self.0.write().expect("token lock") = t;
    }
}

/// What the user said about cluster access.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub timeouts: crate::limits::Timeouts,
}

impl Options {
    fn wants_kubeconfig(&self) -> bool {
        self.kubeconfig.is_some()
            || self.context.is_some()
            || std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty())
    }
}

/// Connect to the cluster described by `cluster` (DescribeCluster), as `opts` says.
pub async fn connect(
    aws: &Aws,
    name: &str,
    cluster: Option<&Cluster>,
    sts_host: &str,
    opts: &Options,
) -> anyhow::Result<Kube> {
    if opts.wants_kubeconfig() {
        let kc = match &opts.kubeconfig {
            Some(p) => Kubeconfig::read_from(p)
                .with_context(|| format!("cannot read the kubeconfig {}", p.display()))?,
            None => Kubeconfig::read().context("cannot read the kubeconfig ($KUBECONFIG)")?,
        };
        let kopts = KubeConfigOptions {
            context: opts.context.clone(),
            ..Default::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(kc, &kopts)
            .await
            .context("cannot use the kubeconfig (check --context)")?;
        with_timeouts(&mut config, &opts.timeouts);
        // The current context may be any cluster; a context named with --context is the
        // user's deliberate choice (e.g. a tunnel to a private endpoint), so it is trusted.
        if opts.context.is_none()
            && let Some(endpoint) = cluster.and_then(|c| c.endpoint.as_deref())
        {
            same_server(&config.cluster_url.to_string(), endpoint, name)?;
        }
        let client = kube::Client::try_from(config)?;
        return Ok(Kube::new(
            client,
            Access::Kubeconfig {
                path: opts.kubeconfig.clone(),
                context: opts.context.clone(),
            },
        ));
    }
    let Some(c) = cluster else {
        bail!("cannot reach EKS cluster {name}: it was not found (check --cluster and --region)");
    };
    let (Some(server), Some(ca_data)) = (&c.endpoint, &c.certificate_authority) else {
        bail!(
            "EKS cluster {name} has no API endpoint yet (status {}): wait until it is ACTIVE",
            c.status
        );
    };
    let mut config = kube::Config::new(
        server
            .parse()
            .with_context(|| format!("EKS returned an invalid endpoint {server:?}"))?,
    );
    config.root_cert = Some(pem_certificates(ca_data)?);
    with_timeouts(&mut config, &opts.timeouts);
    with_proxy(&mut config, |k| std::env::var(k).ok())?;
    let provider = aws
        .credentials
        .clone()
        .context("no AWS credentials to sign the EKS token with")?;
    let region = aws.region.clone();
    let sign = {
        let (name, sts_host) = (name.to_string(), sts_host.to_string());
        move |creds: &aws_credential_types::Credentials| {
            token::token(creds, &region, &sts_host, &name, SystemTime::now())
        }
    };
    let creds = provider
        .provide_credentials()
        .await
        .context("cannot load AWS credentials to sign the EKS token")?;
    let tok = Token::default();
    tok.set(sign(&creds)?);
    // Refresh in the background: a long `up` (KEDA install, rollouts) outlives one token.
    let refresh = tok.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(token::REFRESH_AFTER).await;
            let signed = match provider.provide_credentials().await {
                Ok(creds) => sign(&creds),
                Err(e) => Err(anyhow::Error::new(e).context("cannot load AWS credentials")),
            };
            if let Some(warning) = refreshed(&refresh, signed) {
                eprintln!("{warning}");
            }
        }
    });
    let client = kube::client::ClientBuilder::try_from(config)?
        .with_layer(&Bearer(tok.clone()))
        .build();
    Ok(Kube::new(
        client,
        Access::Eks {
            server: server.clone(),
            ca_data: ca_data.to_string(),
            token: tok,
        },
    ))
}

/// Store a newly signed token; if signing failed, keep the current one and return the warning
/// to print: the next calls may get a 401 once EKS stops accepting it, and this says why.
fn refreshed(token: &Token, signed: anyhow::Result<String>) -> Option<String> {
    match signed {
        Ok(t) => {
            token.set(t);
            None
        }
        Err(e) => Some(format!(
            "warning: cannot refresh the EKS token ({e:#}); the current one stays in use, and EKS \
             stops accepting it 15 minutes after it was signed"
        )),
    }
}

/// kube's defaults wait 295 s for an answer; a silent API server must end the run sooner.
fn with_timeouts(config: &mut kube::Config, t: &crate::limits::Timeouts) {
    config.connect_timeout = Some(t.connect);
    config.read_timeout = Some(t.call);
    config.write_timeout = Some(t.call);
}

/// HTTPS_PROXY / NO_PROXY as kubectl and helm honour them (a kubeconfig brings its own
/// `proxy-url`; this is for the connection kedactl builds from EKS).
fn with_proxy(
    config: &mut kube::Config,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<()> {
    config.proxy_url = super::proxy::proxy_for(&config.cluster_url, env)?;
    Ok(())
}

/// Refuse a kubeconfig that points at another cluster than --cluster.
fn same_server(kubeconfig: &str, eks: &str, name: &str) -> anyhow::Result<()> {
    let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    if norm(kubeconfig) != norm(eks) {
        bail!(
            "the kubeconfig's current context points at {kubeconfig}, but EKS cluster {name} is at \
             {eks}: name the right context with --context, or drop --kubeconfig to let kedactl \
             connect from EKS"
        );
    }
    Ok(())
}

/// DER certificates from DescribeCluster's `certificateAuthority.data` (base64 of PEM).
pub fn pem_certificates(ca_data: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let pem = b64
        .decode(ca_data.trim())
        .context("the cluster's CA data is not base64")?;
    let pem = String::from_utf8(pem).context("the cluster's CA data is not PEM text")?;
    let mut certs = Vec::new();
    let mut body: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        if line.starts_with("-----BEGIN CERTIFICATE") {
            body = Some(String::new());
        } else if line.starts_with("-----END CERTIFICATE") {
            let text = body.take().unwrap_or_default();
            certs.push(
                b64.decode(text)
                    .context("the cluster's CA certificate is not valid base64")?,
            );
        } else if let Some(b) = body.as_mut() {
            b.push_str(line);
        }
    }
    if certs.is_empty() {
        bail!("the cluster's CA data holds no certificate");
    }
    Ok(certs)
}

/// Adds `Authorization: Bearer <current EKS token>` to every request.
struct Bearer(Token);

impl<S> tower::Layer<S> for Bearer {
    type Service = BearerService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        BearerService {
            inner,
            token: self.0.clone(),
        }
    }
}

pub struct BearerService<S> {
    inner: S,
    token: Token,
}

impl<S, B> tower::Service<Request<B>> for BearerService<S>
where
    S: tower::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer {}", self.token.current())) {
            req.headers_mut().insert(AUTHORIZATION, v);
        }
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_data_is_base64_of_pem() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let der = b"\x30\x82\x01\x0a-fake-der";
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            b64.encode(der)
        );
        let certs = pem_certificates(&b64.encode(pem.as_bytes())).unwrap();
        assert_eq!(certs, vec![der.to_vec()]);
        let err = pem_certificates("bm90IGEgcGVt").unwrap_err().to_string();
        assert!(err.contains("no certificate"), "{err}");
        assert!(pem_certificates("%%%").is_err());
    }

    #[tokio::test]
    async fn every_request_carries_the_current_token() {
        use tower::{Layer, Service};
        let (mock, mut handle) = tower_test::mock::pair::<Request<()>, ()>();
        let token = Token::default();
        token.set("k8s-aws-v1.first".into());
        let mut svc = Bearer(token.clone()).layer(mock);
        let seen = tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..2 {
                let (req, send) = handle.next_request().await.unwrap();
                seen.push(req.headers()[AUTHORIZATION].to_str().unwrap().to_string());
                send.send_response(());
            }
            seen
        });
        for next in ["k8s-aws-v1.second", "unused"] {
            std::future::poll_fn(|cx| svc.poll_ready(cx)).await.unwrap();
            svc.call(Request::new(())).await.unwrap();
            token.set(next.into());
        }
        assert_eq!(
            seen.await.unwrap(),
            ["Bearer k8s-aws-v1.first", "Bearer k8s-aws-v1.second"]
        );
    }

    #[test]
    fn a_failed_refresh_keeps_the_token_and_says_why() {
        let token = Token::default();
        token.set("k8s-aws-v1.old".into());
        let failed = Err(anyhow::anyhow!("the SSO session has expired"))
            .context("cannot load AWS credentials");
        let warning = refreshed(&token, failed).expect("a warning");
        assert!(
            warning.starts_with("warning: cannot refresh the EKS token")
                && warning.contains("cannot load AWS credentials: the SSO session has expired"),
            "{warning}"
        );
        assert_eq!(token.current(), "k8s-aws-v1.old");
        assert_eq!(refreshed(&token, Ok("k8s-aws-v1.new".into())), None);
        assert_eq!(token.current(), "k8s-aws-v1.new");
    }

    /// A local listener stands in for the proxy: the client must open its tunnel there.
    #[tokio::test]
    async fn requests_go_through_the_proxy_the_environment_names() {
        use std::io::{Read, Write};
        let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = proxy.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (mut s, _) = proxy.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let _ = s.write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
            let _ = tx.send(head.lines().next().unwrap_or_default().to_string());
        });
        let mut config = kube::Config::new("https://kube.example.invalid:6443".parse().unwrap());
        with_timeouts(&mut config, &crate::limits::Timeouts::default());
        with_proxy(&mut config, |k| {
            (k == "HTTPS_PROXY").then(|| format!("http://{addr}"))
        })
        .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        assert!(
            client.apiserver_version().await.is_err(),
            "the proxy refused"
        );
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("no connection reached the proxy");
        assert_eq!(line, "CONNECT kube.example.invalid:6443 HTTP/1.1");
    }

    #[test]
    fn a_kubeconfig_for_another_cluster_is_refused() {
        assert!(
            same_server(
                "https://ABC.gr7.us-east-1.eks.amazonaws.com/",
                "https://abc.gr7.us-east-1.eks.amazonaws.com",
                "demo"
            )
            .is_ok()
        );
        let err = same_server("https://kind:6443", "https://abc.eks.amazonaws.com", "demo")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--context") && err.contains("demo"), "{err}");
    }
}
