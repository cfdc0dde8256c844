// A consumer of the installed client SDK: opens (creates) a replica, reads its status, queues
// nothing, and tries a login against a loopback port where nobody listens, so that the SDK's
// replica (SQLite) and transport (libcurl) both run.
//   tundra-consumer REPLICA PORT
#include <tundra/client/client.h>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: tundra-consumer REPLICA PORT\n";
        return 2;
    }
    auto client = tundra::client::Client::open(argv[1]);
    if (!client) {
        std::cerr << "open: " << client.status().to_string() << "\n";
        return 1;
    }
    auto status = client.value()->status();
    if (!status) {
        std::cerr << "status: " << status.status().to_string() << "\n";
        return 1;
    }
    std::cout << "logged_in=" << (status.value().logged_in ? "yes" : "no")
              << " pending=" << status.value().pending << "\n";
    auto login = client.value()->login(std::string("http://127.0.0.1:") + argv[2], "nobody", "no-password");
    std::cout << "login: " << login.to_string() << "\n";
    return 0;
}
