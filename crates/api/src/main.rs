fn main() -> std::process::ExitCode {
    aduan_api::cli::main()
}
