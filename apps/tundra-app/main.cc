// tundra-app: the tablet app. A small local server on the tablet (or a site laptop) that
// serves the web app and its JSON API from each person's local replica, so it works with no
// network at all, and syncs everyone's replica in the background when a link is there.
//   tundra-app --data-dir DIR --server URL [--ca-file FILE] [--allow-insecure-http]
//              --listen 127.0.0.1:PORT
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "app_handler.h"
#include "sync_scheduler.h"
#include "tablet.h"
#include "tundra/client/transport.h"
#include "tundra/web/assets.h"
#include "tundra/web/listener.h"

extern const tundra::web::EmbeddedFile kAppAssets[];

namespace {
using namespace tundra;

int fail(const std::string& message) {
    std::cerr << "tundra-app: " << message << "\n";
    return 1;
}

// "127.0.0.1:8080", "localhost:0", "[::1]:8080": loopback only (serving tablets on a LAN is
// a later step: it needs TLS and a pairing of devices).
Result<std::pair<std::string, uint16_t>> parse_listen(const std::string& text) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return Status(Errc::invalid_argument, "--listen: expected HOST:PORT");
    std::string host = text.substr(0, colon), port_text = text.substr(colon + 1);
    if (host == "localhost") host = "127.0.0.1";
    if (host == "[::1]") host = "::1";
    if (host != "127.0.0.1" && host != "::1")
        return Status(Errc::invalid_argument,
                      "--listen: the app binds this machine only (127.0.0.1, localhost or [::1]), not '" + host + "'");
    if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port_text) > 65535)
        return Status(Errc::invalid_argument, "--listen: bad port '" + port_text + "'");
    return std::make_pair(host, static_cast<uint16_t>(std::stoi(port_text)));
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"tundra-app: the Tundra tablet app (a local web app over each person's replica)"};
    std::string data_dir, server, ca_file, listen = "127.0.0.1:0";
    bool insecure = false, quiet = false;
    int idle_lock_seconds = 5 * 60;
    cli.add_option("--data-dir", data_dir, "Folder of this tablet's replicas (created, mode 0700)")->required();
    cli.add_option("--server", server, "The sync server's URL (https://..., or http:// to this machine)")->required();
    cli.add_option("--ca-file", ca_file, "PEM file of the CA that signed the server's certificate");
    cli.add_flag("--allow-insecure-http", insecure, "Allow http:// to another machine (passwords in clear)");
    cli.add_option("--listen", listen, "Where the app is served: 127.0.0.1:PORT (0 picks a free port)");
    cli.add_flag("--quiet", quiet, "No access log on stderr");
    // Hidden (group ""): only the browser tests use it, to see the idle lock in seconds.
    cli.add_option("--idle-lock-seconds", idle_lock_seconds, "Lock a session after this long idle (tests only)")
        ->check(CLI::Range(5, 24 * 3600))
        ->group("");
    CLI11_PARSE(cli, argc, argv);

    auto where = parse_listen(listen);
    if (!where) return fail(where.status().message());
    if (Status st = client::check_transport_security(server, insecure); !st) return fail(st.message());

    app::TabletOptions topts;
    topts.data_dir = data_dir;
    topts.server_url = server;
    topts.login.ca_file = ca_file;
    topts.login.allow_insecure_http = insecure;
    topts.app_version = TUNDRA_APP_VERSION;
    auto tablet = app::Tablet::open(topts);
    if (!tablet) return fail(tablet.status().message());

    web::AssetTable assets(kAppAssets);
    app::SyncScheduler sync(*tablet.value());
    app::AppHandlerOptions hopts;
    hopts.idle_lock = std::chrono::seconds(idle_lock_seconds);
    app::AppHandler handler(*tablet.value(), sync, assets, hopts);

    web::ListenerOptions lo;
    lo.max_body_bytes = 1024 * 1024;
    lo.workers = 4;
    lo.max_connections = 256;
    if (!quiet) lo.log = [](const std::string& line) { std::cerr << line << "\n"; };
    web::Listener listener([&handler](const web::HttpRequest& r) { return handler.handle(r); }, lo);
    auto port = listener.listen(where->first, where->second);
    if (!port) return fail(port.status().message());
    std::string shown = where->first == "::1" ? "[::1]" : where->first;
    std::printf("listening on http://%s:%u\n", shown.c_str(), static_cast<unsigned>(port.value()));
    std::fflush(stdout);
    sync.start();
    listener.run();
    sync.stop();
    return 0;
}
