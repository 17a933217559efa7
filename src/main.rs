use kedactl::error::{self, SilentExit};
use kedactl::output::OutputFormat;
use kedactl::spec::Problems;
use std::process::ExitCode;

// Rendering and planning a stack allocate and free millions of small JSON and YAML nodes:
// glibc's allocator took 40% of `plan --offline` of 2,000 apps (and musl's is slower still).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The one exit point: parse, run, map the outcome to the exit-code table.
fn main() -> ExitCode {
    let empty = kedactl::cli::empty_env_flags(|k| std::env::var_os(k));
    if !empty.is_empty() {
        let err = Problems {
            origin: "environment".into(),
            problems: empty,
        };
        eprintln!("error: {err:#}");
        return ExitCode::from(error::INVALID_CONFIG);
    }
    let cli = kedactl::cli::parse();
    let json = cli.global.output == OutputFormat::Json;
    // Offline commands (render, validate, schema, simulate, …) start no runtime at all.
    let result = match kedactl::commands::run_offline(cli) {
        Ok(done) => done,
        Err(cli) => match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => {
                let result = runtime.block_on(kedactl::commands::run(*cli));
                // A DNS lookup given up on after --connect-timeout (cloud/dns.rs) still holds a
                // blocking thread: exit without waiting for the resolver's own timeout.
                runtime.shutdown_background();
                result
            }
            Err(e) => {
                eprintln!("error: cannot start the async runtime: {e}");
                return ExitCode::from(error::FAILED);
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if error::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let code = error::exit_code(&err);
            if err.downcast_ref::<SilentExit>().is_none() {
                eprintln!("error: {err:#}");
                if json {
                    // CI reads stdout: give it the same failure as a document.
                    // A closed stdout here is no more an error than anywhere else.
                    let _ = kedactl::output::document(error::KIND, &error::Report::new(&err));
                }
            }
            ExitCode::from(code)
        }
    }
}
