//! The `tipline` binary: parses the command line and hands over to the library.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = tipline::cli::Cli::parse();
    match tipline::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Errors can carry the server's words: shown, not obeyed, by the terminal.
            eprintln!("tipline: {}", tipline::cli::term::safe(&format!("{e:#}")));
            std::process::ExitCode::FAILURE
        }
    }
}
