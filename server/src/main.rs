#[global_allocator]
static ALLOCATOR: jijiao::MiMalloc = jijiao::MiMalloc;

fn main() -> std::process::ExitCode {
    jijiao::cli::main()
}
