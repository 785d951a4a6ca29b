//! The `consign` command: thin argument parsing over the library crates.

mod serve_command;
mod store_command;

use store_command::shutdown_signal;

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
    /// Run Consign: the grant service, the embedded store and the reaper.
    Serve(serve_command::ServeArgs),
    /// Run the embedded S3-compatible store alone.
    Store(store_command::StoreArgs),
}

fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONSIGN_LOG").unwrap_or_else(|_| "info".into());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve_command::run(args),
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
