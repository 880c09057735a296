//! The `prime` command (arrives with its own issue).

fn main() {
    eprintln!("prime: the command-line interface is not built yet");
    std::process::exit(2);
}
