// cli/help.cpp: the man-page formatter behind --help.
#include "help.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include "facto/io/any.hpp"

namespace facto::cli {

namespace {

std::map<const CLI::App*, manual>& manuals() {
    static std::map<const CLI::App*, manual> m;
    return m;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

std::string full_name(const CLI::App* app) {
    std::string name = app->get_name();
    for (const CLI::App* p = app->get_parent(); p; p = p->get_parent()) name = p->get_name() + " " + name;
    return name;
}

/// "-r, --rank R": the names and the value the option takes.
std::string option_heading(const CLI::Option* opt) {
    std::string names;
    for (const auto& s : opt->get_snames()) names += (names.empty() ? "-" : ", -") + s;
    for (const auto& l : opt->get_lnames()) names += (names.empty() ? "--" : ", --") + l;
    if (opt->get_type_size() != 0) {
        const std::string text = opt->get_option_text().empty() ? opt->get_type_name() : opt->get_option_text();
        if (!text.empty()) names += " " + text;
    }
    return names;
}

class man_formatter : public CLI::Formatter {
public:
    std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override {
        const auto it = manuals().find(app);
        if (it == manuals().end()) return CLI::Formatter::make_help(app, std::move(name), mode);
        const manual& m = it->second;
        const std::string me = full_name(app);
        std::ostringstream out;
        out << "NAME\n    " << me << " - " << app->get_description() << "\n\n";
        out << "SYNOPSIS\n";
        for (const auto& line : m.synopsis) out << "    " << line << "\n";
        out << "\nDESCRIPTION\n" << wrap(m.description, 4) << "\n";

        const auto subs = app->get_subcommands({});
        if (!subs.empty()) {
            out << "COMMANDS\n";
            // Descriptions in one column, after the longest name.
            std::size_t column = 16;
            for (const CLI::App* sub : subs) column = std::max(column, sub->get_name().size() + 6);
            for (const CLI::App* sub : subs) {
                std::string line = "    " + sub->get_name();
                line.resize(column, ' ');
                out << line << sub->get_description() << "\n";
            }
            out << "    Run '" << me << " COMMAND --help' for the page of a command.\n\n";
        }

        const auto positionals = app->get_options([](const CLI::Option* o) { return o->get_positional(); });
        if (!positionals.empty()) {
            out << "ARGUMENTS\n";
            for (const CLI::Option* o : positionals)
                out << "    " << o->get_name(true, false) << "\n" << wrap(o->get_description(), 8) << "\n";
        }
        for (const std::string& group : app->get_groups()) {
            const auto opts = app->get_options(
                [&group](const CLI::Option* o) { return o->get_group() == group && o->nonpositional(); });
            if (opts.empty() || group.empty()) continue;
            out << upper(group) << "\n";
            for (const CLI::Option* o : opts) {
                std::string desc = o->get_description();
                if (o->get_type_size() != 0 && !o->get_default_str().empty())
                    desc += " (default: " + o->get_default_str() + ")";
                out << "    " << option_heading(o) << "\n" << wrap(desc, 8) << "\n";
            }
        }
        for (const auto& [title, body] : m.sections) out << upper(title) << "\n" << wrap(body, 4) << "\n";
        std::string text = out.str();
        while (text.size() > 1 && text[text.size() - 1] == '\n' && text[text.size() - 2] == '\n') text.pop_back();
        return text;
    }
};

}  // namespace

void set_manual(const CLI::App* app, manual m) { manuals()[app] = std::move(m); }

std::shared_ptr<CLI::Formatter> make_man_formatter() { return std::make_shared<man_formatter>(); }

std::string wrap(const std::string& text, std::size_t indent, std::size_t width) {
    const std::string pad(indent, ' ');
    std::ostringstream out;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty()) {
            out << "\n";
            continue;
        }
        if (line[0] == ' ') {  // preformatted: examples, tables
            out << pad << line.substr(1) << "\n";
            continue;
        }
        std::istringstream words(line);
        std::string word, current;
        while (words >> word) {
            if (!current.empty() && indent + current.size() + 1 + word.size() > width) {
                out << pad << current << "\n";
                current.clear();
            }
            current += (current.empty() ? "" : " ") + word;
        }
        if (!current.empty()) out << pad << current << "\n";
    }
    return out.str();
}

std::string formats_section() {
    return std::string("facto reads ") + supported_formats() +
           ", chosen by the file's extension (--format overrides it); compressed files are "
           "recognized by their content.\n"
           "\n"
           " .tns      FROSTT sparse tensor: one nonzero per line, indices then value;\n"
           "           1-based (0-based is detected); '#' starts a comment\n"
           " .npy      NumPy array of any order (float, integer or bool; C or Fortran order)\n"
           " .npz      NumPy archive: its first array, or the member named by --key\n"
           " .mtx      MatrixMarket matrix (coordinate or array; symmetric storage expanded)\n"
           " .csv .tsv coordinates (integer indices, then a value) or a dense table\n"
           "           (--dense-csv); a header line is detected\n";
}

std::string exit_status_section(bool with_interrupt) {
    std::string s =
        " 0    success\n"
        " 1    failure: unreadable or malformed input (the message gives FILE:LINE),\n"
        "      a failed write\n"
        " 2    bad command line: unknown option, missing or invalid argument\n";
    if (with_interrupt)
        s += " 130  interrupted by Ctrl-C: the model of the last completed iteration and\n"
             "      report.json (marked interrupted) were written; a second Ctrl-C quits at once\n";
    return s;
}

}  // namespace facto::cli
