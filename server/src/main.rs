fn main() -> std::process::ExitCode {
    jijiao::cli::main()
}
