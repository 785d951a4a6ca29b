//! The `consign` command: thin argument parsing over the library crates.

mod store_command;

use clap::{Parser, Subcommand};

/// Direct-to-storage uploads, signed with AWS Signature Version 4.
#[derive(Debug, Parser)]
#[command(name = "consign", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the embedded S3-compatible store alone.
    Store(store_command::StoreArgs),
}

fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONSIGN_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Store(args) => store_command::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("consign: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
