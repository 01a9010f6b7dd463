// The shell completion scripts in completions/: they offer every option
// `dial9 COMMAND --help` prints (so they cannot fall behind the CLI), and
// completing in a real bash and a real zsh gives the commands, options,
// option values and, after `record`'s options, the program to run.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

using namespace dial9::test;

namespace {

std::string completions(const std::string& file) { return std::string(DIAL9_SOURCE_DIR) + "/completions/" + file; }

// The options of `dial9 COMMAND... --help`: "-o,--output DIR" gives -o and
// --output.
std::set<std::string> help_options(const std::vector<std::string>& command) {
  std::vector<std::string> argv{dial9_binary()};
  argv.insert(argv.end(), command.begin(), command.end());
  argv.push_back("--help");
  RunResult r = run(argv);
  REQUIRE(r.exit_code == 0);
  std::set<std::string> out;
  std::istringstream lines(r.out);
  static const std::regex option_column(R"(^\s+(-[A-Za-z0-9](?:,--[a-z0-9-]+)?|--[a-z0-9-]+))");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, option_column)) continue;
    std::string names = m[1];
    for (size_t p = 0; p != std::string::npos;) {
      size_t comma = names.find(',', p);
      out.insert(names.substr(p, comma == std::string::npos ? std::string::npos : comma - p));
      p = comma == std::string::npos ? comma : comma + 1;
    }
  }
  REQUIRE(out.count("--help") == 1);
  return out;
}

std::set<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::set<std::string> out;
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

// What bash completes for `line` (split on spaces; a trailing space starts
// an empty word), through the script's function, as bash would call it.
std::set<std::string> bash_complete(const std::string& line) {
  std::string script = "source '" + completions("dial9.bash") + "'\n" +
                       "read -r -a COMP_WORDS <<< \"$1\"\n"
                       "[[ $1 == *' ' ]] && COMP_WORDS+=('')\n"
                       "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                       "_dial9\n"
                       "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
  RunResult r = run({"bash", "--norc", "-c", script, "bash", line});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return words(r.out);
}

}  // namespace

TEST_CASE("the completion scripts offer every option that dial9 COMMAND --help prints") {
  std::ifstream zin(completions("_dial9"));
  std::stringstream zsh;
  zsh << zin.rdbuf();
  const std::string z = zsh.str();
  REQUIRE(z.rfind("#compdef dial9", 0) == 0);
  for (const std::vector<std::string>& command : dial9_commands()) {
    std::string words_of = command[0] + (command.size() > 1 ? " " + command[1] : "");
    std::string fn = command[0] + (command.size() > 1 ? "_" + command[1] : "");
    RunResult b = run({"bash", "--norc", "-c", "source '" + completions("dial9.bash") + "'; _dial9_options " + words_of});
    REQUIRE(b.exit_code == 0);
    std::set<std::string> bash_options = words(b.out);
    // zsh: the command's function, and the option arrays commands share
    // (`selection` for report and export, `recording` for record and
    // attach) that it uses.
    size_t start = z.find("_dial9_" + fn + "() {");
    INFO("dial9 " << words_of);
    REQUIRE(start != std::string::npos);
    std::string body = z.substr(start, z.find("\n}", start) - start);
    for (const char* array : {"selection", "recording"}) {
      size_t at = z.find(std::string(array) + "=(");
      if (at != std::string::npos && body.find(std::string("$") + array) != std::string::npos) {
        body += z.substr(at, z.find("\n)", at) - at);
      }
    }
    for (const std::string& opt : help_options(command)) {
      INFO("option " << opt);
      CHECK(bash_options.count(opt) == 1);
      CHECK(body.find(opt) != std::string::npos);
    }
  }
}

TEST_CASE("bash completes commands, options, option values and the program to record") {
  CHECK(bash_complete("dial9 re") == std::set<std::string>{"record", "report"});
  CHECK(bash_complete("dial9 record --wa") == std::set<std::string>{"--waker-stacks"});
  CHECK(bash_complete("dial9 record --call-graph ") == std::set<std::string>{"fp", "auto", "dwarf"});
  CHECK(bash_complete("dial9 report -f ") == std::set<std::string>{"text", "json", "markdown"});
  CHECK(bash_complete("dial9 dump -e Wake") == std::set<std::string>{"WakeupEvent", "WakerStackEvent"});
  CHECK(bash_complete("dial9 record -F ").empty());  // a number: nothing to offer
  // After record's options (and their values) comes the program; after
  // the program, its own arguments: dial9's options are no longer offered.
  CHECK(bash_complete("dial9 record -F 99 --call-graph fp ech").count("echo") == 1);
  CHECK(bash_complete("dial9 record -F 99 echo --wa").empty());
  CHECK(bash_complete("dial9 record -- ech").count("echo") == 1);
  CHECK(bash_complete("dial9 co") == std::set<std::string>{"config"});
  CHECK(bash_complete("dial9 config ") == std::set<std::string>{"show", "default", "-h", "--help"});
  CHECK(bash_complete("dial9 config show -f ") == std::set<std::string>{"text", "json"});
  CHECK(bash_complete("dial9 record --conf") == std::set<std::string>{"--config"});
}

TEST_CASE("zsh completes commands, options and option values") {
  if (::access("/usr/bin/zsh", X_OK) != 0 && ::access("/bin/zsh", X_OK) != 0) {
    DIAL9_SKIP("zsh is not installed (apt-get install zsh; ./dev installs it)");
  }
  // An interactive zsh on a pseudo-terminal, with the script on its fpath:
  // type the line and a TAB, read what the terminal shows.
  // compinit can take more than a second on a busy machine: the line is
  // typed once the prompt it sets (written as $'\x3e ', so the echo of the
  // set-up line does not look like it) is on the terminal, 10 s at most.
  const char* driver = R"(zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; PS1=\$'\\x3e '; LISTMAX=1000"
out=
for i in {1..100}; do
  zpty -r -t z chunk && out+=$chunk
  [[ $out == *'> '* ]] && break
  sleep 0.1
done
zpty -w -n z "$2"$'\t'
sleep 1
out=
while zpty -r -t z chunk; do out+=$chunk; done
zpty -d z
print -r -- "$out")";
  auto zsh_complete = [&](const std::string& line) {
    RunResult r = run({"zsh", "-f", "-c", driver, "zsh", std::string(DIAL9_SOURCE_DIR) + "/completions", line});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    // What follows the prompt line's start: the completed line and any list.
    return r.out.substr(r.out.rfind("> ") == std::string::npos ? 0 : r.out.rfind("> "));
  };
  CHECK_THAT(zsh_complete("dial9 rep"), Catch::Contains("dial9 report"));
  CHECK_THAT(zsh_complete("dial9 record --wak"), Catch::Contains("dial9 record --waker-stacks"));
  std::string formats = zsh_complete("dial9 report -f ");
  for (const char* f : {"text", "json", "markdown"}) CHECK_THAT(formats, Catch::Contains(f));
  CHECK_THAT(zsh_complete("dial9 config sh"), Catch::Contains("dial9 config show"));
}
