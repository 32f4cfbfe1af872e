//! `smokegate completions SHELL` and `smokegate man`: generated from the clap definitions,
//! so they never drift from `--help`.

use clap::CommandFactory;

use super::{print_line, Cli};
use crate::cli::exit_codes;

/// Print the completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "smokegate", &mut out);
    print_bytes(&out)
}

/// Print the manual page (roff) on stdout: the command and every subcommand.
pub fn man() -> i32 {
    let cmd = Cli::command();
    let mut out = Vec::new();
    if clap_mangen::Man::new(cmd.clone()).render(&mut out).is_err() {
        return exit_codes::INTERNAL_ERROR;
    }
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        // A one-shot command: the page name lives until the process exits.
        let name: &'static str =
            Box::leak(format!("smokegate-{}", sub.get_name()).into_boxed_str());
        let page = sub.clone().name(name);
        if clap_mangen::Man::new(page).render(&mut out).is_err() {
            return exit_codes::INTERNAL_ERROR;
        }
    }
    print_bytes(&out)
}

fn print_bytes(out: &[u8]) -> i32 {
    print_line(String::from_utf8_lossy(out).trim_end());
    exit_codes::SUCCESS
}
