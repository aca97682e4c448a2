// cli/help.hpp: --help pages laid out like a man page (NAME, SYNOPSIS, DESCRIPTION, OPTIONS,
// then sections such as FORMATS, EXAMPLES, EXIT STATUS), generated from the CLI11 options so
// that the option list cannot drift from what the parser accepts.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace facto::cli {

/// The hand-written parts of one command's page; NAME's summary is the app's description.
struct manual {
    std::vector<std::string> synopsis;  ///< one usage line each, without the leading "facto"
    std::string description;            ///< paragraphs separated by blank lines; wrapped
    /// Extra sections after OPTIONS, in order: title, body. Body lines starting with a space
    /// are kept as they are (examples); other lines are wrapped.
    std::vector<std::pair<std::string, std::string>> sections;
};

/// Registers the page of an app (the root or a subcommand).
void set_manual(const CLI::App* app, manual m);

/// The formatter installed on the root app (subcommands inherit it).
std::shared_ptr<CLI::Formatter> make_man_formatter();

/// Shared section bodies.
std::string formats_section();      ///< supported_formats() and what each holds
std::string exit_status_section(bool with_interrupt);

/// Word-wraps text to width columns with every line indented by indent spaces.
std::string wrap(const std::string& text, std::size_t indent, std::size_t width = 80);

}  // namespace facto::cli
