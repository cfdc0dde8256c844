// The Client facade, leaving a shared tablet: logout (wipe, optionally exporting queued
// actions first) and replay (queue an export again). Also the owner-only file writer.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "client_internal.h"
#include "tundra/core/json.h"
#include "tundra/core/protocol.h"

namespace tundra::client {

Status write_private_file(const std::string& path, std::string_view content) {
    std::string tmp = path + ".tmp-" + random_hex(8);
    auto fail = [&](const std::string& what) {
        std::string msg = "cannot write '" + path + "': " + what + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return Status(Errc::storage, msg);
    };
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Status(Errc::storage, "cannot write '" + path + "': " + std::strerror(errno));
    size_t off = 0;
    while (off < content.size()) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            return fail("write");
        }
        off += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
        ::close(fd);
        return fail("fsync");
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
    return Status::ok();
}

namespace {
constexpr const char* kExportFormat = "tundra-export";
constexpr int kExportVersion = 1;
constexpr uintmax_t kMaxExportBytes = 64u << 20;

std::string encode_export(const std::string& export_id, const ReplicaMeta& m,
                          const std::vector<OutboxEntry>& queued, uint64_t now_ms) {
    rapidjson::StringBuffer buf;
    json::Writer w(buf);
    w.StartObject();
    w.Key("format");
    json::put(w, kExportFormat);
    w.Key("version");
    w.Int(kExportVersion);
    w.Key("export_id");
    json::put(w, export_id);
    w.Key("exported_at");
    json::put(w, format_iso8601(static_cast<int64_t>(now_ms)));
    w.Key("server");
    json::put(w, m.server);
    w.Key("username");
    json::put(w, m.username);
    w.Key("device_id");
    json::put(w, m.device_id);
    w.Key("actions");
    w.StartArray();
    for (auto& e : queued) {
        std::string a = encode_action(e.action);
        w.RawValue(a.data(), a.size(), rapidjson::kObjectType);
    }
    w.EndArray();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

struct Export {
    std::string export_id;
    std::vector<Action> actions;
};

Result<Export> read_export(const std::string& path) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec) return Status(Errc::not_found, "cannot read '" + path + "': " + ec.message());
    if (size > kMaxExportBytes) return Status(Errc::too_large, "'" + path + "' is larger than 64 MiB");
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in && !in.eof()) return Status(Errc::storage, "cannot read '" + path + "'");
    rapidjson::Document doc;
    if (Status st = json::parse(ss.str(), doc); !st)
        return Status(Errc::invalid_argument, "'" + path + "' is not an export: " + st.message());
    if (!doc.IsObject()) return Status(Errc::invalid_argument, "'" + path + "' is not an export");
    std::string format;
    uint64_t version = 0;
    Export out;
    TUNDRA_TRY(json::req_string(doc, "format", format, ""));
    TUNDRA_TRY(json::req_uint(doc, "version", version, ""));
    TUNDRA_TRY(json::req_string(doc, "export_id", out.export_id, ""));
    if (format != kExportFormat || version != kExportVersion)
        return Status(Errc::invalid_argument, "'" + path + "' is not a Tundra export (version 1)");
    if (out.export_id.empty() || out.export_id.size() > 100)
        return Status(Errc::invalid_argument, "'" + path + "': bad export_id");
    const rapidjson::Value* actions = json::find(doc, "actions");
    if (!actions || !actions->IsArray())
        return Status(Errc::invalid_argument, "'" + path + "': actions must be an array");
    for (rapidjson::SizeType i = 0; i < actions->Size(); ++i) {
        rapidjson::StringBuffer buf;
        json::Writer w(buf);
        (*actions)[i].Accept(w);
        auto a = decode_action(std::string_view(buf.GetString(), buf.GetSize()));
        if (!a) return Status(Errc::invalid_argument, "'" + path + "': actions[" + std::to_string(i) + "]: " + a.status().message());
        out.actions.push_back(std::move(a.value()));
    }
    return out;
}
}  // namespace

Result<LogoutReport> Client::logout(const std::string& export_path) {
    return guard([&]() -> Result<LogoutReport> {
        auto& I = *impl_;
        SyncLock one_sync(I);  // no sync in flight while we wipe
        TUNDRA_TRY(one_sync.status());
        ReplicaLock g(I);
        Replica& r = *I.replica;
        LogoutReport rep;
        if (!export_path.empty()) {
            auto queued = r.outbox({OutboxState::queued});
            if (!queued) return queued.status();
            rep.export_id = random_hex(32);
            rep.exported = static_cast<int64_t>(queued->size());
            // The file is on disk (fsync, rename) before anything is deleted.
            TUNDRA_TRY(write_private_file(export_path, encode_export(rep.export_id, r.load_meta(),
                                                                     queued.value(), I.wall())));
        }
        // The export holds exactly what was queued when it was written: the replica lock is
        // held, so nothing was recorded since.
        auto dropped = r.logout(!export_path.empty());
        if (!dropped) return dropped.status();
        I.note("logout", all_kinds({"outbox", "notice", "session", "settings"}));
        return rep;
    });
}

Result<ReplayReport> Client::replay(const std::string& export_path) {
    return guard([&]() -> Result<ReplayReport> {
        auto ex = read_export(export_path);
        if (!ex) return ex.status();
        auto& I = *impl_;
        ReplicaLock g(I);
        TUNDRA_TRY(I.require_login(I.replica->load_meta()));
        auto n = I.replica->requeue(ex->export_id, ex->actions, I.wall);
        if (!n) return n.status();
        std::set<std::string> kinds{"outbox"};
        for (auto& a : ex->actions)
            for (auto& k : action_kinds(a)) kinds.insert(k);
        I.note("action", std::vector<std::string>(kinds.begin(), kinds.end()));
        return ReplayReport{n.value(), ex->export_id};
    });
}

}  // namespace tundra::client
