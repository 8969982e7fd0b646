//! The `tipline` binary: parses the command line and hands over to the library.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = tipline::cli::Cli::parse();
    match tipline::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tipline: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
