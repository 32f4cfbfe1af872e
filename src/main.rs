//! The `smokegate` binary: parse arguments, run a command, exit with its code.

mod demo;

use clap::Parser;
use smokegate::cli::{self, exit_codes, Cli, Command};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit_codes::CONFIG_ERROR
            } else {
                exit_codes::SUCCESS
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("SMOKEGATE_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let code = match cli.command {
        Command::Validate(a) => cli::validate_command(&a),
        Command::List(a) => cli::list_command(&a),
        Command::Run(a) => runtime().block_on(cli::run_command(&a, &[])),
        Command::Demo(a) => runtime().block_on(demo::demo(a)),
        Command::Merge(a) => cli::ci::merge_command(&a),
    };
    std::process::exit(code);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}
