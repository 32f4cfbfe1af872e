//! The `smokegate` binary: parse arguments, run a command, exit with its code.

#[cfg(feature = "demo")]
mod demo;

use clap::Parser;
use smokegate::cli::{self, exit_codes, Cli, Command};

fn main() {
    tune_allocator();
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
        Command::Run(a) => on_runtime(smokegate::runner::worker_threads(), async move {
            cli::run_command(&a, &[]).await
        }),
        #[cfg(feature = "demo")]
        Command::Demo(a) => runtime().block_on(demo::demo(a)),
        #[cfg(not(feature = "demo"))]
        Command::Demo(_) => {
            cli::print_err("error: this smokegate was built without the `demo` feature");
            exit_codes::CONFIG_ERROR
        }
        Command::Serve(a) => on_runtime(
            smokegate::runner::worker_threads(),
            cli::serve::serve_command(a),
        ),
        Command::Merge(a) => cli::ci::merge_command(&a),
        Command::Completions { shell } => cli::docs::completions(shell),
        Command::Man => cli::docs::man(),
    };
    std::process::exit(code);
}

#[cfg(feature = "demo")]
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}

/// Run a command's future on a single-threaded runtime (`threads` = 1) or on a
/// multi-threaded one with `threads` workers. A run is I/O-bound: one thread drives every
/// connection, case and reporter without handing work across threads (measured in
/// bench/PROFILE.md: faster than a multi-threaded runtime, also for 64 TLS handshakes at
/// once, and it leaves the other cores to whatever else the machine runs);
/// `SMOKEGATE_WORKER_THREADS` asks for more (`smokegate::runner::worker_threads`). Blocking
/// work (system DNS lookups) still goes to tokio's blocking pool, and a large suite file is
/// parsed on one thread per core before the run starts.
fn on_runtime<F>(threads: usize, fut: F) -> i32
where
    F: std::future::Future<Output = i32>,
{
    if threads > 1 {
        return tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
            .expect("the tokio runtime starts")
            .block_on(fut);
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
        .block_on(fut)
}

/// glibc's malloc serves an allocation of 128 KiB or more with its own `mmap`, returned to
/// the system when freed — until the first such block is freed: then it raises that
/// threshold to the block's size, and later large blocks (a parsed suite file's case list, a
/// plan's case table as it grows) come from the heap, where freeing them leaves holes the
/// process keeps. Fixing the threshold at its default keeps that from happening: a run of
/// 100,000 checks in 50 files peaked at 62–69 MB (varying with the order the parse threads
/// freed their blocks) and at 59–60 MB with it (bench/PROFILE.md). Other allocators (musl's,
/// in the static release builds) have no such setting.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; it is called before any other thread
    // exists, and an unknown or refused setting is reported by its return value (ignored:
    // the default behaviour is still correct, only larger).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
