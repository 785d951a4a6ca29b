//! `consign serve`: the grant service, the embedded store (unless an
//! external one is configured) and the reaper, with one command.

use std::net::SocketAddr;
use std::path::PathBuf;

use consign_server::config::{DEV_API_KEY, ServerConfig};

/// Options of `consign serve`. Flags override the environment, which
/// overrides the configuration file.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A TOML configuration file (profiles, storage, keys).
    #[arg(long, env = "CONSIGN_CONFIG")]
    config: Option<PathBuf>,
    /// Address of the API.
    #[arg(long, env = "CONSIGN_LISTEN")]
    listen: Option<SocketAddr>,
    /// Address of the embedded store.
    #[arg(long, env = "CONSIGN_STORE_LISTEN")]
    store_listen: Option<SocketAddr>,
    /// Where SQLite and the embedded store keep their data.
    #[arg(long, env = "CONSIGN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…`.
    #[arg(long)]
    database_url: Option<String>,
}

/// Runs until Ctrl-C or SIGTERM.
///
/// # Errors
/// A message saying what could not start.
pub fn run(args: ServeArgs) -> Result<(), String> {
    let mut config = match &args.config {
        Some(path) => ServerConfig::from_file(path)?,
        None => ServerConfig::default(),
    };
    config.apply_env(|name| std::env::var(name).ok())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(listen) = args.store_listen {
        config.embedded_store.listen = listen;
    }
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if let Some(url) = args.database_url {
        config.database_url = Some(url);
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let running = consign_server::start(config.clone()).await?;
        let api = format!("http://{}", running.api_address);
        println!("consign serve: the grant service is ready");
        println!("  open       {api}/  (the upload page)   {api}/uppy  (the same with Uppy)");
        println!("  API        {api}/v1  (OpenAPI: {api}/v1/openapi.json)");
        println!("  health     {api}/healthz  {api}/readyz  metrics: {api}/metrics");
        match running.store_address {
            Some(store) => println!(
                "  storage    embedded store at http://{store}, bucket {}, data in {}",
                config.embedded_store.bucket,
                config.data_dir.join("store").display()
            ),
            None => println!("  storage    {}", running.app.storage.public_url()),
        }
        println!("  database   {}", redact_url(&config.database_url()));
        println!("  profiles   {}", running.app.profiles.keys().cloned().collect::<Vec<_>>().join(", "));
        if config.api_keys.is_empty() {
            println!("  API key    {DEV_API_KEY}  (development default: configure api_keys for anything else)");
        }
        if config.token_secret.is_none() {
            println!("  tokens     signed with the development secret: configure token_secret for anything else");
        }
        println!("  try        curl -s -X POST {api}/v1/uploads -H 'authorization: Bearer {DEV_API_KEY}' \\");
        println!("               -d '{{\"profile\":\"default\",\"filename\":\"a.txt\",\"content_type\":\"text/plain\",\"size\":5}}'");
        running.stop_on(crate::shutdown_signal());
        running.wait().await
    })
}

/// A database URL without its password.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(redact_url("postgres://app:hunter2@db/uploads"), "postgres://app:***@db/uploads");
        assert_eq!(redact_url("sqlite://consign-data/consign.db"), "sqlite://consign-data/consign.db");
    }
}
