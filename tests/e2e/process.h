// Real processes for end-to-end tests: the tundra-server binary on 127.0.0.1.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tundra::testing {

// A whole file's bytes ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct CmdResult {
    int code = -1;
    std::string out, err;
};

// A shell command line run in `folder` with `input` on its stdin: its exit code, stdout and
// stderr (through the files stdin, stdout and stderr in the folder).
inline CmdResult run_command(const std::string& folder, const std::string& cmdline, const std::string& input = "") {
    std::string in = folder + "/stdin", out = folder + "/stdout", err = folder + "/stderr";
    std::ofstream(in) << input;
    std::string cmd = "cd '" + folder + "' && " + cmdline + " < '" + in + "' > '" + out + "' 2> '" + err + "'";
    int st = std::system(cmd.c_str());
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out), slurp(err)};
}

class ServerProcess {
public:
    // `extra`: more `serve` arguments (e.g. --tls-cert FILE --tls-key FILE); quiet = false
    // keeps the access log (stderr, in `log`).
    ServerProcess(const std::string& db, const std::string& log, const std::string& listen = "127.0.0.1:0",
                  const std::vector<std::string>& extra = {}, bool quiet = true) {
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe");
        pid_ = fork();
        if (pid_ == 0) {
            dup2(fds[1], 1);
            int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(err, 2);
            close(fds[0]);
            std::vector<const char*> argv = {TUNDRA_SERVER_BIN, "serve", "--db", db.c_str(), "--listen",
                                             listen.c_str()};
            if (quiet) argv.push_back("--quiet");
            for (auto& a : extra) argv.push_back(a.c_str());
            argv.push_back(nullptr);
            execv(TUNDRA_SERVER_BIN, const_cast<char* const*>(argv.data()));
            _exit(127);
        }
        close(fds[1]);
        FILE* f = fdopen(fds[0], "r");
        char line[256] = {};
        auto trimmed = [](std::string s) {
            while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
            return s;
        };
        // With --metrics-listen, the metrics listener's line comes first.
        std::string metrics_prefix = "metrics listening on ";
        for (;;) {
            if (!fgets(line, sizeof line, f)) throw std::runtime_error("server printed nothing");
            first_line = line;
            if (first_line.rfind(metrics_prefix, 0) != 0) break;
            metrics_url = trimmed(first_line.substr(metrics_prefix.size()));
        }
        fclose(f);
        std::string prefix = "listening on ";
        if (first_line.rfind(prefix, 0) != 0) throw std::runtime_error("unexpected: " + first_line);
        url = trimmed(first_line.substr(prefix.size()));
    }
    // SIGTERM; returns the exit status.
    int stop() { return signal_and_wait(SIGTERM); }
    // Crash: no chance to flush or finish anything.
    int kill9() { return signal_and_wait(SIGKILL); }
    int signal_and_wait(int sig) {
        if (pid_ <= 0) return -1;
        kill(pid_, sig);
        int st = 0;
        waitpid(pid_, &st, 0);
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    ~ServerProcess() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    std::string url, first_line;
    std::string metrics_url;  // http://ADDRESS:PORT/metrics with --metrics-listen

private:
    pid_t pid_ = -1;
};

}  // namespace tundra::testing
